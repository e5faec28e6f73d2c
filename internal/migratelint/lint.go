// Package migratelint finds the migrations that hurt in production: it
// replays each migration of a folder on a scratch database, once empty and
// once filled with representative rows (package sample), with the
// production runner, compares the catalog before and after, counts the
// rows, compares the values of the rows a rebuilt table keeps, looks at
// the statements, and checks that a new migration is numbered above the
// shipped ones.
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

	"github.com/agentops/orgdb/dbfile"
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

	TypeChange     = "TYPE_CHANGE"     // a rebuild changes a column's declared type or affinity
	ModifyNotNull  = "MODIFY_NOT_NULL" // a rebuild makes a column NOT NULL and copies its NULLs as they are
	DropNotNull    = "DROP_NOT_NULL"   // a column loses NOT NULL: its generated Go type becomes a pointer
	PKChange       = "PK_CHANGE"       // a rebuild changes the primary key, rowid aliasing or WITHOUT ROWID
	PositionalCopy = "POSITIONAL_COPY" // INSERT … SELECT * or an INSERT without a column list into a rebuilt or existing table
	FKPragma       = "FK_PRAGMA"       // PRAGMA foreign_keys = …: a no-op in the runner's (and D1's) transaction
	DataChange     = "DATA_CHANGE"     // UPDATE or DELETE without WHERE on existing rows
	VersionOrder   = "VERSION_ORDER"   // a new migration numbered at or below a shipped one
	ShadowedUnique = "SHADOWED_UNIQUE" // a new unique index weaker or stronger than a table-level UNIQUE that still applies
	ValuesChanged  = "VALUES_CHANGED"  // a rebuild changes values of the rows it keeps
)

// Finding is one problem in one migration.
type Finding struct {
	Path     string // the file, as given in Options.Dir or Options.AllowFile
	Line     int
	Code     string
	Table    string // the table concerned, if any
	Column   string // the column concerned, if any
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
	// Shipped are the migrations already shipped (see [ShippedAt]): a
	// migration none of them has must be numbered above each set's
	// highest. None: VERSION_ORDER is not judged.
	Shipped []Shipped
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
	order := versionOrder(o.Dir, ms, o.Shipped)
	linted := map[string]bool{}
	var res Result
	for i, m := range ms {
		r := &replay{ctx: ctx, fsys: fsys, m: m, path: filepath.Join(o.Dir, m.File), tmp: tmp, empty: empty}
		r.stmts, r.comments = Split(m.SQL)
		r.findings = order[m.File]
		stop, err := r.run(i)
		if err != nil {
			return res, fmt.Errorf("lint %s: %w", m.File, err)
		}
		res.Migrations++
		linted[m.File] = true
		slices.SortStableFunc(r.findings, func(a, b Finding) int { return a.Line - b.Line })
		res.Findings = append(res.Findings, settle(r.findings, r, allows)...)
		if stop {
			break // a migration that fails leaves nothing to replay the next ones on
		}
	}
	for _, a := range allows {
		// After a failing migration the later ones are not linted: their
		// allowances are neither used nor unused.
		skipped := !linted[a.file] && slices.ContainsFunc(ms, func(m schema.Migration) bool { return m.File == a.file })
		if !a.used && !skipped {
			res.Findings = append(res.Findings, Finding{Path: o.AllowFile, Line: a.line, Code: Allow,
				Message: fmt.Sprintf("allows %s for %s, which has no such finding (or no longer exists): remove the line", a.code, a.file)})
		}
	}
	return res, nil
}

func open(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", dbfile.DSN(path))
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
	rebuilds map[string]*rebuild // by lower-case table name

	before, after catalog.Catalog
}

func (r *replay) add(line int, code, table, format string, args ...any) {
	r.addColumn(line, code, table, "", format, args...)
}

func (r *replay) addColumn(line int, code, table, column, format string, args ...any) {
	if line <= 0 {
		line = 1
	}
	r.findings = append(r.findings, Finding{Path: r.path, Line: line, Code: code, Table: table, Column: column, Message: fmt.Sprintf(format, args...)})
}

// run lints the migration: statements, then the replay on the empty
// database (the catalog diff), then on a copy filled with rows. It
// reports stop when the migration fails on the empty database.
func (r *replay) run(i int) (stop bool, err error) {
	ctx := r.ctx
	if r.before, err = catalog.Read(ctx, r.empty); err != nil {
		return false, fmt.Errorf("read the catalog: %w", err)
	}
	r.rebuilds = findRebuilds(r.stmts, r.before)
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
	kept, err := r.readRebuilt(filled, r.before)
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
		r.positional() // a copy by position may be why
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
		case r.modifyNotNullSays(msg):
			// MODIFY_NOT_NULL names the column and the fix already.
		case strings.Contains(msg, "NOT NULL") && r.has(line, PositionalCopy):
			r.add(line, NotNull, "", "fails on a table that has rows (%s): the INSERT copies by position, so values land in other columns (POSITIONAL_COPY above); name the columns", msg)
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
	if err := r.valuesChanged(filled, kept); err != nil {
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

// has reports whether the migration has a finding of code at line.
func (r *replay) has(line int, code string) bool {
	return slices.ContainsFunc(r.findings, func(f Finding) bool { return f.Line == line && f.Code == code })
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
			if len(name) > 1 && name[0].is("foreign_keys") && (name[1].text == "=" || name[1].text == "(") {
				r.add(s.Line, FKPragma, "", "PRAGMA foreign_keys does nothing inside a transaction, and the runner (like Cloudflare D1) applies each migration in one: "+
					"foreign keys stay on, so a DROP TABLE still deletes the rows that reference it (ON DELETE CASCADE) or fails; "+
					"use PRAGMA defer_foreign_keys = ON, which checks foreign keys at COMMIT instead (the cascades still run: see DROP_CASCADE)")
			}
		}
		if c, ok := changeOf(s); ok && !c.where {
			r.dataChange(s, c)
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

// dataChange reports an UPDATE or DELETE without WHERE on rows that
// existed before the migration (a table of before, or the new table of a
// rebuild after the copy). An UPDATE that sets only columns this
// migration adds is a backfill, not a change.
func (r *replay) dataChange(s Statement, c change) {
	bt, existed := r.before.Table(c.table)
	for _, rb := range r.rebuilds {
		if strings.EqualFold(rb.into, c.table) {
			bt, existed = r.before.Table(rb.table)
		}
	}
	if !existed {
		return
	}
	if c.verb == "DELETE" {
		r.add(s.Line, DataChange, bt.Name, "DELETE FROM %s without WHERE deletes every row: add the WHERE that picks the rows to go, or, if all of them are meant, say why with -- lint:allow %s reason", c.table, DataChange)
		return
	}
	var old []string
	for _, col := range c.set {
		if _, ok := bt.Column(col); ok {
			old = append(old, col)
		}
	}
	if len(old) == 0 {
		return // a backfill of columns this migration adds
	}
	r.add(s.Line, DataChange, bt.Name, "UPDATE %s without WHERE rewrites %s in every existing row: add the WHERE that picks the rows to change, or, if every row is meant, say why with -- lint:allow %s reason",
		c.table, strings.Join(old, ", "), DataChange)
}
