// Package migratelint finds the migrations that hurt in production: it
// replays each migration of a folder on a scratch database, once empty and
// once filled with representative rows (package sample), with the
// production runner, compares the catalog before and after, counts the
// rows, and looks at the statements.
//
// A finding is accepted only when the migration says it is intended, with
// a comment "-- lint:allow CODE reason" in the file. A shipped migration
// is never edited (the runner refuses a changed checksum), so its
// allowances live in an allow file instead (schema/migratelint.allow; see the command), each
// tied to the file's sha256: editing the file voids them.
package migratelint

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	_ "github.com/mattn/go-sqlite3" // the driver the runner uses

	"github.com/agentops/orgdb/internal/catalog"
	"github.com/agentops/orgdb/internal/sample"
	"github.com/agentops/orgdb/schema"
)

// The codes of the findings.
const (
	DropTable    = "DROP_TABLE"    // a table is dropped: its rows are lost
	DropColumn   = "DROP_COLUMN"   // a column is dropped: its values are lost
	RenameTable  = "RENAME_TABLE"  // the running binary still uses the old name
	RenameColumn = "RENAME_COLUMN" // likewise for a column
	NotNull      = "NOT_NULL"      // NOT NULL on a table with rows, no default or backfill
	Unique       = "UNIQUE"        // a new UNIQUE index or constraint on an existing table
	RebuildLost  = "REBUILD_LOST"  // a rebuilt table lacks an index, trigger, CHECK or foreign key
	RowsLost     = "ROWS_LOST"     // a table holds fewer rows after the migration
	DropCascade  = "DROP_CASCADE"  // dropping a table deletes rows of tables that reference it
	D1           = "D1"            // a statement Cloudflare D1 refuses
	Fails        = "FAILS"         // the migration fails on a database at the previous version
	FailsOnRows  = "FAILS_ON_ROWS" // the migration fails on a database with sample rows
	Allow        = "LINT_ALLOW"    // a lint:allow that is malformed, unused or out of date
)

// Finding is one problem in one migration.
type Finding struct {
	Path     string // the file, as given in Options.Dir or Options.AllowFile
	Line     int
	Code     string
	Table    string // the table concerned, if any
	Message  string
	Accepted bool   // a lint:allow accepts it
	Reason   string // the lint:allow's reason
}

// String is the finding as the command prints it: file:line CODE message.
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d %s %s", f.Path, f.Line, f.Code, f.Message)
}

// Options says what to lint.
type Options struct {
	Dir       string // the migrations folder
	AllowFile string // the allowances of shipped migrations; "" or a missing file for none
}

// Result is the outcome of a lint run.
type Result struct {
	Migrations int       // how many were replayed
	Findings   []Finding // accepted ones included, in file order
}

// Failed returns the findings no lint:allow accepts.
func (r Result) Failed() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if !f.Accepted {
			out = append(out, f)
		}
	}
	return out
}

// Lint replays every migration of o.Dir and returns the findings. An error
// is for a lint that could not run (an unreadable folder, a malformed
// allow file, a scratch database that could not be made), not for a
// finding.
func Lint(ctx context.Context, o Options) (Result, error) {
	fsys := os.DirFS(o.Dir)
	ms, err := schema.Load(fsys)
	if err != nil {
		return Result{}, err
	}
	allows, err := readAllowFile(o.AllowFile)
	if err != nil {
		return Result{}, err
	}
	tmp, err := os.MkdirTemp("", "migratelint")
	if err != nil {
		return Result{}, fmt.Errorf("scratch folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	empty, err := open(filepath.Join(tmp, "empty.db"))
	if err != nil {
		return Result{}, err
	}
	defer empty.Close()
	var res Result
	for i, m := range ms {
		r := &replay{ctx: ctx, fsys: fsys, m: m, path: filepath.Join(o.Dir, m.File), tmp: tmp, empty: empty}
		r.stmts, r.comments = Split(m.SQL)
		stop, err := r.run(i)
		if err != nil {
			return res, fmt.Errorf("lint %s: %w", m.File, err)
		}
		res.Migrations++
		res.Findings = append(res.Findings, settle(r.findings, r, allows)...)
		if stop {
			break // a migration that fails leaves nothing to replay the next ones on
		}
	}
	for _, a := range allows {
		if !a.used {
			res.Findings = append(res.Findings, Finding{Path: o.AllowFile, Line: a.line, Code: Allow,
				Message: fmt.Sprintf("allows %s for %s, which has no such finding (or no longer exists): remove the line", a.code, a.file)})
		}
	}
	return res, nil
}

func open(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", schema.DSN(path))
	if err != nil {
		return nil, fmt.Errorf("scratch database: %w", err)
	}
	return db, nil
}

// replay is the linting of one migration.
type replay struct {
	ctx      context.Context
	fsys     fs.FS
	m        schema.Migration
	path     string
	tmp      string
	empty    *sql.DB
	stmts    []Statement
	comments []Comment
	findings []Finding

	before, after catalog.Catalog
}

func (r *replay) add(line int, code, table, format string, args ...any) {
	if line <= 0 {
		line = 1
	}
	r.findings = append(r.findings, Finding{Path: r.path, Line: line, Code: code, Table: table, Message: fmt.Sprintf(format, args...)})
}

// run lints the migration: statements, then the replay on the empty
// database (the catalog diff), then on a copy filled with rows. It
// reports stop when the migration fails on the empty database.
func (r *replay) run(i int) (stop bool, err error) {
	ctx := r.ctx
	if r.before, err = catalog.Read(ctx, r.empty); err != nil {
		return false, fmt.Errorf("read the catalog: %w", err)
	}
	r.statements()

	filledPath := filepath.Join(r.tmp, fmt.Sprintf("filled-%d.db", i))
	if _, err := r.empty.ExecContext(ctx, `VACUUM INTO ?`, filledPath); err != nil {
		return false, fmt.Errorf("copy the scratch database: %w", err)
	}
	defer os.Remove(filledPath)
	filled, err := open(filledPath)
	if err != nil {
		return false, err
	}
	defer filled.Close()
	if err := sample.Fill(ctx, filled, r.before); err != nil {
		return false, err
	}
	rowsBefore, err := counts(ctx, filled, r.before)
	if err != nil {
		return false, err
	}

	if _, err := schema.Migrate(ctx, r.empty, schema.UpTo(r.fsys, r.m.Version)); err != nil {
		line, msg := r.locate(r.empty)
		if msg == "" {
			msg = err.Error()
		}
		code := Fails
		if strings.Contains(msg, "NOT NULL") {
			code = NotNull
		}
		r.add(line, code, "", "the migration fails on a database at the previous version: %s; fix the statement", msg)
		return true, nil
	}
	if r.after, err = catalog.Read(ctx, r.empty); err != nil {
		return false, fmt.Errorf("read the catalog: %w", err)
	}
	r.diff()

	if _, err := schema.Migrate(ctx, filled, schema.UpTo(r.fsys, r.m.Version)); err != nil {
		line, msg := r.locate(filled)
		if msg == "" {
			msg = err.Error()
		}
		switch {
		case strings.Contains(msg, "NOT NULL"):
			r.add(line, NotNull, "", "fails on a table that has rows (%s): give the column a DEFAULT or backfill it in this migration", msg)
		default:
			r.add(line, FailsOnRows, "", "fails on a database filled with sample rows (%s): make it work on any rows production may hold (clean or backfill them first); "+
				"if production cannot hold such rows, say why with -- lint:allow %s reason", msg, FailsOnRows)
		}
		return false, nil
	}
	rowsAfter, err := counts(ctx, filled, r.after)
	if err != nil {
		return false, err
	}
	for _, t := range r.before.Tables {
		n, ok := rowsAfter[strings.ToLower(t.Name)]
		was := rowsBefore[strings.ToLower(t.Name)]
		if ok && n < was {
			line := r.lineOf(func(s Statement) bool { return dropTableName(s) == strings.ToLower(t.Name) },
				func(s Statement) bool { return s.first("DELETE") && s.mentions(t.Name) },
				func(s Statement) bool { return s.mentions(t.Name) })
			r.add(line, RowsLost, t.Name, "table %s held %d rows of a filled scratch database before this migration and %d after: keep every row, or say why with -- lint:allow %s reason", t.Name, was, n, RowsLost)
		}
	}
	return false, nil
}

// locate re-runs the statements one by one in a transaction that is rolled
// back, on a database where the migration failed (and so changed nothing),
// and returns the line and error of the first that fails.
func (r *replay) locate(db *sql.DB) (int, string) {
	tx, err := db.BeginTx(r.ctx, nil)
	if err != nil {
		return 1, ""
	}
	defer tx.Rollback() //nolint:errcheck // only ever rolled back
	for _, s := range r.stmts {
		if _, err := tx.ExecContext(r.ctx, s.SQL); err != nil {
			return s.Line, err.Error()
		}
	}
	return 1, ""
}

func counts(ctx context.Context, db *sql.DB, cat catalog.Catalog) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range cat.Tables {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(t.Name, `"`, `""`)+`"`).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t.Name, err)
		}
		out[strings.ToLower(t.Name)] = n
	}
	return out, nil
}

// lineOf returns the line of the first statement the first matching
// predicate accepts, trying the predicates in order; 1 if none.
func (r *replay) lineOf(preds ...func(Statement) bool) int {
	for _, p := range preds {
		for _, s := range r.stmts {
			if p(s) {
				return s.Line
			}
		}
	}
	return 1
}

// d1Pragmas are the pragmas Cloudflare D1 refuses in a migration.
var d1Pragmas = []string{"journal_mode", "wal_checkpoint", "wal_autocheckpoint", "integrity_check"}

// statements applies the rules that read the statements alone: D1's
// refusals and renames of existing columns.
func (r *replay) statements() {
	for _, s := range r.stmts {
		if len(s.tokens) == 0 {
			continue
		}
		switch kw := strings.ToUpper(s.tokens[0].text); kw {
		case "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE":
			r.add(s.Line, D1, "", "%s: Cloudflare D1 refuses transaction statements (it runs each migration in its own transaction, as the orgdb runner does); remove it", kw)
		case "ATTACH", "DETACH", "VACUUM":
			r.add(s.Line, D1, "", "%s: Cloudflare D1 refuses it; remove it", kw)
		case "PRAGMA":
			name := s.tokens[1:]
			if len(name) >= 3 && name[1].text == "." {
				name = name[2:]
			}
			if len(name) > 0 && slices.Contains(d1Pragmas, strings.ToLower(name[0].name())) {
				r.add(s.Line, D1, "", "PRAGMA %s: Cloudflare D1 refuses it; remove it (the runner's connection settings are in schema.DSN)", strings.ToLower(name[0].name()))
			}
		}
		if a, ok := alterOf(s); ok && a.kind == "rename column" {
			if old, existed := r.before.Table(a.table); existed {
				if _, ok := old.Column(a.column); ok {
					r.add(s.Line, RenameColumn, a.table, "renames column %s.%s to %s: the binary still running during a rollout breaks on the old name; add a column and backfill it, or say why with -- lint:allow %s reason", a.table, a.column, a.to, RenameColumn)
				}
			}
		}
	}
}
