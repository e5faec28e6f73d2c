// Package sample fills a migrated database with representative rows,
// driven by its catalog alone: several rows per table, NULL in every
// nullable column, column defaults, edge values (RFC 3339 and offset
// timestamps where the service writes 'YYYY-MM-DD HH:MM:SS', past and
// future times, flags that are NULL or neither 0 nor 1) and foreign keys
// that point at real parent rows. The migration lint replays migrations on
// such a database and the upgrade tests check that migrations keep its
// rows.
//
// Nothing here names a table or a column: what a column accepts is derived
// from its declared type, its name's _at suffix (a timestamp), its
// default, its foreign key and the string literals it is compared with in
// CHECK constraints and triggers. A value that a constraint or a trigger
// refuses is replaced by the next candidate; a row no candidate fits is
// left out.
package sample

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/agentops/orgdb/internal/catalog"
)

// Rows is how many rows Fill tries to insert into each table.
const Rows = 4

// Times are the timestamps Fill cycles through for a timestamp column:
// the first is in the past, the second in the future with fractional
// seconds, the third an RFC 3339 time in the future, the fourth an RFC
// 3339 time with an offset in the past. With NULL in the nullable columns
// of every other row, a table of invitations gets an expired, an
// accepted, a pending and another accepted row.
var Times = []string{"2020-01-02 03:04:05", "2099-12-31 23:59:59.123", "2098-06-01T12:30:00Z", "2021-03-04T05:06:07+02:00"}

// canonicalTime is the fallback timestamp when a column refuses the edge
// values: the layout of datetime('now'), in the future.
const canonicalTime = "2097-01-02 03:04:05"

// Ints are the values Fill cycles through for an integer column: flags
// 0 and 1 and one that is neither.
var Ints = []int64{0, 1, 0, -1}

// omit means: leave the column out of the INSERT, so it gets its default.
type omitted struct{}

var omit = omitted{}

// Fill inserts up to [Rows] rows into every table of cat, parents before
// children, in one transaction. Rows already there get NULL in their
// nullable columns where allowed. Row 0 has NULL in every nullable column
// and the default in every other column that has one; row 2 has NULL in
// every nullable column too; rows 1 and 3 have a value everywhere.
func Fill(ctx context.Context, db *sql.DB, cat catalog.Catalog) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sample: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	for _, t := range ordered(cat) {
		if err := nullExisting(ctx, tx, t); err != nil {
			return fmt.Errorf("sample: table %s: %w", t.Name, err)
		}
		lits := literals(cat, t)
		lens := fixedLengths(cat, t)
		for i := range Rows {
			if err := insertRow(ctx, tx, t, i, lits, lens); err != nil {
				return fmt.Errorf("sample: table %s: %w", t.Name, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sample: commit: %w", err)
	}
	return nil
}

// nullExisting sets every nullable column of the rows a migration
// inserted itself (a settings row) to NULL where the database allows it,
// so that those rows carry the edge values too.
func nullExisting(ctx context.Context, tx *sql.Tx, t catalog.Table) error {
	for _, c := range t.Columns {
		if c.NotNull || c.PK {
			continue
		}
		_, err := tx.ExecContext(ctx, "UPDATE "+quote(t.Name)+" SET "+quote(c.Name)+" = NULL")
		var se sqlite3.Error
		if err != nil && !(errors.As(err, &se) && se.Code == sqlite3.ErrConstraint) {
			return err
		}
	}
	return nil
}

// ordered returns the tables parents first (a table after every table its
// foreign keys reference, ignoring self-references and cycles).
func ordered(cat catalog.Catalog) []catalog.Table {
	var out []catalog.Table
	done := map[string]bool{}
	var visit func(t catalog.Table, seen map[string]bool)
	visit = func(t catalog.Table, seen map[string]bool) {
		key := strings.ToLower(t.Name)
		if done[key] || seen[key] {
			return
		}
		seen[key] = true
		for _, fk := range t.FKs {
			if p, ok := cat.Table(fk.Table); ok {
				visit(p, seen)
			}
		}
		done[key] = true
		out = append(out, t)
	}
	for _, t := range cat.Tables {
		visit(t, map[string]bool{})
	}
	return out
}

// literals maps each column of t (lower-case) to the string literals it is
// compared with (col IN ('a', 'b'), col = 'a', NEW.col NOT IN (…)) in the
// table's CHECK constraints and in the triggers on it.
func literals(cat catalog.Catalog, t catalog.Table) map[string][]string {
	var sqls []string
	for _, o := range cat.Objects {
		if strings.EqualFold(o.Table, t.Name) && (o.Type == "table" || o.Type == "trigger") {
			sqls = append(sqls, o.SQL)
		}
	}
	out := map[string][]string{}
	for _, c := range t.Columns {
		name := regexp.QuoteMeta(c.Name)
		re := regexp.MustCompile(`(?i)(?:^|[^\w.])(?:NEW\.)?["` + "`" + `\[]?` + name + `["` + "`" + `\]]?\s*(?:(?:NOT\s+)?IN\s*\(([^)]*)\)|=\s*('(?:[^']|'')*'))`)
		for _, s := range sqls {
			for _, m := range re.FindAllStringSubmatch(s, -1) {
				for _, l := range regexp.MustCompile(`'((?:[^']|'')*)'`).FindAllStringSubmatch(m[1]+m[2], -1) {
					v := strings.ReplaceAll(l[1], "''", "'")
					if !slices.Contains(out[strings.ToLower(c.Name)], v) {
						out[strings.ToLower(c.Name)] = append(out[strings.ToLower(c.Name)], v)
					}
				}
			}
		}
	}
	return out
}

// insertRow inserts row i of t, trying each column's candidates in turn
// while a constraint refuses the row. A row that nothing fits is skipped.
func insertRow(ctx context.Context, tx *sql.Tx, t catalog.Table, i int, lits map[string][]string, lens map[string]int) error {
	cands := make([][]any, len(t.Columns))
	for j, c := range t.Columns {
		cs, err := candidates(ctx, tx, t, c, i, lits[strings.ToLower(c.Name)], lens[strings.ToLower(c.Name)])
		if err != nil {
			return err
		}
		cands[j] = cs
	}
	choice := make([]int, len(cands))
	try := func() (bool, error) {
		var cols []string
		var args []any
		for j, c := range t.Columns {
			v := cands[j][choice[j]]
			if v == omit {
				continue
			}
			cols = append(cols, quote(c.Name))
			args = append(args, v)
		}
		q := "INSERT INTO " + quote(t.Name) + " DEFAULT VALUES"
		if len(cols) > 0 {
			q = "INSERT INTO " + quote(t.Name) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		}
		_, err := tx.ExecContext(ctx, q, args...)
		var se sqlite3.Error
		if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint {
			return false, nil
		}
		return err == nil, err
	}
	if ok, err := try(); ok || err != nil {
		return err
	}
	// One column at a time, the others at their first choice.
	for j := range cands {
		for k := 1; k < len(cands[j]); k++ {
			choice[j] = k
			if ok, err := try(); ok || err != nil {
				return err
			}
		}
		choice[j] = 0
	}
	// Then cumulatively: each column in turn settles on its last (plainest)
	// candidate.
	for j := range cands {
		choice[j] = len(cands[j]) - 1
		if ok, err := try(); ok || err != nil {
			return err
		}
	}
	return nil
}

// candidates lists the values to try for column c in row i, best first.
// fixedLen, if not 0, is the length a CHECK requires of c's text.
func candidates(ctx context.Context, tx *sql.Tx, t catalog.Table, c catalog.Column, i int, lits []string, fixedLen int) ([]any, error) {
	var out []any
	nullable := !c.NotNull && !c.PK
	if nullable && i%2 == 0 {
		out = append(out, nil)
	}
	if i == 0 && c.Default.Valid {
		out = append(out, omit)
	}
	if c.PK && catalog.Affinity(c.Type) == "INTEGER" && pkColumns(t) == 1 {
		return append(out, omit), nil // the rowid: let SQLite number it
	}
	for _, fk := range t.FKs {
		if !strings.EqualFold(fk.From, c.Name) {
			continue
		}
		parents, err := parentKeys(ctx, tx, fk)
		if err != nil {
			return nil, err
		}
		for k := range parents {
			out = append(out, parents[(i+k)%len(parents)])
		}
		if len(parents) == 0 && nullable {
			out = append(out, nil)
		}
		return fallback(out, c), nil
	}
	for k := range lits {
		out = append(out, lits[(i+k)%len(lits)])
	}
	switch {
	case isTime(c):
		out = append(out, Times[i%len(Times)], canonicalTime)
	case catalog.Affinity(c.Type) == "INTEGER" || catalog.Affinity(c.Type) == "NUMERIC":
		out = append(out, Ints[i%len(Ints)], int64(i), int64(0), int64(1))
	case catalog.Affinity(c.Type) == "REAL":
		out = append(out, float64(i)+0.5, 0.0)
	case catalog.Affinity(c.Type) == "BLOB":
		out = append(out, []byte{byte(i), 0, 0xff})
	case strings.Contains(strings.ToLower(c.Name), "email"):
		out = append(out, fmt.Sprintf("Sample.User%d@Example.com", i), fmt.Sprintf("sample%d@example.com", i))
	case fixedLen > 0:
		// A digest or a salt: lower-case hex of the required length,
		// different in every row.
		sum := fmt.Sprintf("%x", sha256.Sum256(fmt.Appendf(nil, "%s %s %d", t.Name, c.Name, i)))
		out = append(out, strings.Repeat(sum, fixedLen/len(sum)+1)[:fixedLen])
	default:
		out = append(out, fmt.Sprintf("%s %s %d", t.Name, c.Name, i))
	}
	return fallback(out, c), nil
}

// fixedLengths maps each column of t (lower-case) that a CHECK of the
// table requires to have an exact length (length(col) = N) to N.
func fixedLengths(cat catalog.Catalog, t catalog.Table) map[string]int {
	out := map[string]int{}
	for _, o := range cat.Objects {
		if !strings.EqualFold(o.Table, t.Name) || o.Type != "table" {
			continue
		}
		for _, c := range t.Columns {
			re := regexp.MustCompile(`(?i)length\(\s*["` + "`" + `\[]?` + regexp.QuoteMeta(c.Name) + `["` + "`" + `\]]?\s*\)\s*=\s*(\d+)`)
			if m := re.FindStringSubmatch(o.SQL); m != nil {
				if n, err := strconv.Atoi(m[1]); err == nil && n > 0 && n <= 1024 {
					out[strings.ToLower(c.Name)] = n
				}
			}
		}
	}
	return out
}

// fallback ends every list with the default or NULL, where allowed, so a
// column whose other candidates are all refused can still be filled.
func fallback(out []any, c catalog.Column) []any {
	if c.Default.Valid && !slices.Contains(out, any(omit)) {
		out = append(out, omit)
	}
	if len(out) == 0 {
		out = append(out, omit)
	}
	return out
}

func parentKeys(ctx context.Context, tx *sql.Tx, fk catalog.ForeignKey) ([]any, error) {
	col := fk.To
	if col == "" {
		col = "rowid"
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+quote(col)+" FROM "+quote(fk.Table)+" ORDER BY rowid")
	if err != nil {
		return nil, fmt.Errorf("parent keys of %s: %w", fk.Table, err)
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func pkColumns(t catalog.Table) int {
	n := 0
	for _, c := range t.Columns {
		if c.PK {
			n++
		}
	}
	return n
}

// isTime reports whether c holds a timestamp: its name ends in _at or its
// default is the current time.
func isTime(c catalog.Column) bool {
	d := strings.ToLower(c.Default.String)
	return strings.HasSuffix(strings.ToLower(c.Name), "_at") || strings.Contains(d, "datetime(") || strings.Contains(d, "current_timestamp")
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
