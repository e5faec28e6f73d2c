package store

import (
	"context"
	"database/sql"
	"strings"
)

// router is the db.DBTX the generated queries are prepared on: a SELECT
// goes to the read pool, anything else to the writer connection. The
// decision is made once per query, when it is prepared.
type router struct {
	readers, writer *sql.DB
}

func (r router) pool(query string) *sql.DB {
	if isRead(query) {
		return r.readers
	}
	return r.writer
}

func (r router) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return r.pool(query).PrepareContext(ctx, query)
}

func (r router) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.writer.ExecContext(ctx, query, args...)
}

func (r router) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.pool(query).QueryContext(ctx, query, args...)
}

func (r router) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.pool(query).QueryRowContext(ctx, query, args...)
}

// isRead reports whether query is a plain SELECT, after its leading
// comments (sqlc starts every query with "-- name: ..."). Anything else,
// including WITH (which may write), is a write: the writer can run
// everything, while a reader refuses writes (query_only).
func isRead(query string) bool {
	for {
		query = strings.TrimLeft(query, " \t\r\n")
		if !strings.HasPrefix(query, "--") {
			break
		}
		i := strings.IndexByte(query, '\n')
		if i < 0 {
			return false
		}
		query = query[i+1:]
	}
	return len(query) >= 6 && strings.EqualFold(query[:6], "SELECT") &&
		(len(query) == 6 || strings.ContainsRune(" \t\r\n(*", rune(query[6])))
}
