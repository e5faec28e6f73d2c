package migratelint

import (
	"database/sql"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/agentops/orgdb/internal/catalog"
)

// positional reports the INSERTs that fill columns by position: SELECT *
// (which depends on the source table's column order on each database),
// and an INSERT without a column list into a table that existed before
// the migration or into the new table of a rebuild.
func (r *replay) positional() {
	for _, s := range r.stmts {
		in, ok := insertOf(s)
		if !ok {
			continue
		}
		// bt is the table the rows go into as it was before; target its
		// columns now (as the INSERT fills them by position).
		bt, existed := r.before.Table(in.table)
		target := bt
		for _, rb := range r.rebuilds {
			if strings.EqualFold(rb.into, in.table) {
				bt, existed = r.before.Table(rb.table)
				target, _ = r.after.Table(rb.table)
			}
		}
		from := in.from
		if from == "" {
			from = "…"
		}
		switch {
		case in.star:
			var shared []string
			for _, c := range target.Columns {
				if _, ok := r.sourceColumn(in.from, c.Name); ok || in.from == "" {
					shared = append(shared, c.Name)
				}
			}
			fix := "name the columns on both sides"
			if len(shared) > 0 {
				list := strings.Join(shared, ", ")
				fix = fmt.Sprintf("name the columns on both sides: INSERT INTO %s (%s) SELECT %s FROM %s", in.table, list, list, from)
			}
			r.add(s.Line, PositionalCopy, bt.Name, "INSERT INTO %s … SELECT * copies by column position, so it depends on the column order of %s on each database: "+
				"a column added later with ALTER TABLE ADD COLUMN comes last, and where the order differs from the new table's the values land in the wrong columns "+
				"(the original agent-ops 0005 moved scope into created_at this way); %s", in.table, from, fix)
		case in.cols == nil && !in.defaults && existed:
			var cols []string
			for k, c := range target.Columns {
				if in.items == nil || k < len(in.items) {
					cols = append(cols, c.Name)
				}
			}
			r.add(s.Line, PositionalCopy, bt.Name, "INSERT INTO %s without a column list fills the columns by position, so a SELECT or VALUES in another order than the table puts values in the wrong columns, silently when the types agree; "+
				"name them: INSERT INTO %s (%s) …", in.table, in.table, strings.Join(cols, ", "))
		}
	}
}

// sourceColumn finds column col of table name as it is when the
// migration starts, following a rename away of a table being rebuilt.
func (r *replay) sourceColumn(name, col string) (catalog.Column, bool) {
	t, ok := r.before.Table(name)
	if !ok {
		for _, s := range r.stmts {
			if a, isAlter := alterOf(s); isAlter && a.kind == "rename table" && strings.EqualFold(a.to, name) {
				t, ok = r.before.Table(a.table)
			}
		}
	}
	if !ok {
		return catalog.Column{}, false
	}
	return t.Column(col)
}

// rows are the rows of one table, each a map from lower-case column name
// to value, with the rowid under "" where the table has one.
type rows []map[string]any

// readRebuilt reads every row of every table the migration rebuilds from
// db, whose catalog is cat.
func (r *replay) readRebuilt(db *sql.DB, cat catalog.Catalog) (map[string]rows, error) {
	out := map[string]rows{}
	for key, rb := range r.rebuilds {
		if _, ok := cat.Table(rb.table); !ok {
			continue
		}
		rs, err := readRows(r, db, cat, rb.table)
		if err != nil {
			return nil, err
		}
		out[key] = rs
	}
	return out, nil
}

func readRows(r *replay, db *sql.DB, cat catalog.Catalog, table string) (rows, error) {
	q := `SELECT rowid AS "", * FROM ` + quoteName(table)
	if withoutRowid(tableSQL(cat, table)) {
		q = `SELECT * FROM ` + quoteName(table)
	}
	res, err := db.QueryContext(r.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer res.Close()
	cols, err := res.Columns()
	if err != nil {
		return nil, err
	}
	var out rows
	for res.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := res.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		row := map[string]any{}
		for i, c := range cols {
			row[strings.ToLower(c)] = vals[i]
		}
		out = append(out, row)
	}
	return out, res.Err()
}

// valuesChanged compares, for every rebuilt table, the rows kept before
// the migration (read by readRebuilt) with the rows after it on db:
// every row still there (found by its primary key, else its rowid) must
// hold the same value in every column it had.
func (r *replay) valuesChanged(db *sql.DB, kept map[string]rows) error {
	for _, bt := range r.before.Tables {
		key := strings.ToLower(bt.Name)
		rb, was := r.rebuilds[key], kept[key]
		at, ok := r.after.Table(bt.Name)
		if rb == nil || !ok || len(was) == 0 {
			continue
		}
		now, err := readRows(r, db, r.after, at.Name)
		if err != nil {
			return err
		}
		keyCols := pkCols(bt)
		if !subset(keyCols, columnNames(at)) || len(keyCols) == 0 {
			keyCols = []string{""} // the rowid
		}
		rowKey := func(row map[string]any) (string, bool) {
			var parts []string
			for _, k := range keyCols {
				v, ok := row[k]
				if !ok {
					return "", false
				}
				name := k
				if k == "" {
					name = "rowid"
				}
				parts = append(parts, name+" = "+literal(v))
			}
			return strings.Join(parts, ", "), true
		}
		after := map[string]map[string]any{}
		for _, row := range now {
			if k, ok := rowKey(row); ok {
				after[k] = row
			}
		}
		line := rb.line
		for _, in := range rb.copies {
			if in.hasSel {
				line = in.stmt.Line
				break
			}
		}
		// A row found under no key while the table holds as many rows as
		// before had its key rewritten (ROWS_LOST sees only counts).
		var gone []string
		for _, row := range was {
			if k, ok := rowKey(row); ok {
				if _, found := after[k]; !found {
					gone = append(gone, k)
				}
			}
		}
		if len(gone) > 0 && len(now) >= len(was) {
			r.add(line, ValuesChanged, bt.Name, "rebuild changes the key of %d of the %d sample rows of %s (no row has %s any more, yet the table holds as many rows): copy the key columns as they are; if the change is intended, say why with -- lint:allow %s reason",
				len(gone), len(was), bt.Name, gone[0], ValuesChanged)
		}
		for _, c := range bt.Columns {
			col := strings.ToLower(c.Name)
			nc, ok := at.Column(c.Name)
			if !ok {
				continue // DROP_COLUMN
			}
			changed, kept, example := 0, 0, ""
			for _, row := range was {
				k, ok := rowKey(row)
				if !ok {
					continue
				}
				got, ok := after[k]
				if !ok {
					continue // ROWS_LOST
				}
				kept++
				if row[col] == nil && !nonNull(c) && nc.NotNull {
					continue // the backfill MODIFY_NOT_NULL asks for
				}
				if !reflect.DeepEqual(row[col], got[col]) {
					if changed == 0 {
						example = fmt.Sprintf("row %s: %s → %s", k, literal(row[col]), literal(got[col]))
					}
					changed++
				}
			}
			if changed > 0 {
				r.addColumn(line, ValuesChanged, bt.Name, c.Name, "rebuild changes %s.%s in %d of the %d sample rows it keeps (%s): copy every column from itself, by name; if the change is intended, say why with -- lint:allow %s reason",
					bt.Name, c.Name, changed, kept, example, ValuesChanged)
			}
		}
	}
	return nil
}

func columnNames(t catalog.Table) []string {
	var out []string
	for _, c := range t.Columns {
		out = append(out, c.Name)
	}
	return out
}

// literal shows a value as SQL would.
func literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case []byte:
		return fmt.Sprintf("X'%X'", v)
	case float64:
		return fmt.Sprintf("%g (REAL)", v)
	}
	return fmt.Sprint(v)
}

func quoteName(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

var notNullFailed = regexp.MustCompile(`NOT NULL constraint failed: ([^\s.]+)\.(\S+)`)

// modifyNotNullSays reports whether a failure on a NOT NULL column is one
// a MODIFY_NOT_NULL finding of this migration already names.
func (r *replay) modifyNotNullSays(msg string) bool {
	m := notNullFailed.FindStringSubmatch(msg)
	if m == nil {
		return false
	}
	for _, f := range r.findings {
		if f.Code != ModifyNotNull || !strings.EqualFold(f.Column, m[2]) {
			continue
		}
		if rb := r.rebuilds[strings.ToLower(f.Table)]; rb != nil && (strings.EqualFold(rb.into, m[1]) || strings.EqualFold(rb.table, m[1])) {
			return true
		}
	}
	return false
}
