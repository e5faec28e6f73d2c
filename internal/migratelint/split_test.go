package migratelint

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	src := `-- header; with a semicolon
CREATE TABLE a (x TEXT DEFAULT 'a;b', "we;ird" TEXT, [br;acket] TEXT, ` + "`bq;`" + ` TEXT);
/* block; comment
   lint:allow D1 in a block */ INSERT INTO a (x) VALUES ('it''s; fine');
CREATE TEMP TRIGGER t AFTER INSERT ON a
WHEN NEW.x = 'END;'
BEGIN
  UPDATE a SET x = 'begin;' WHERE x = NEW.x;
  SELECT CASE WHEN 1 THEN 2 END;
END;;
EXPLAIN CREATE TRIGGER u AFTER INSERT ON a BEGIN SELECT 1; END;
BEGIN;
SELECT 1`
	stmts, comments := Split(src)
	var lines []int
	var firsts []string
	for _, s := range stmts {
		lines = append(lines, s.Line)
		firsts = append(firsts, strings.ToUpper(s.tokens[0].text))
	}
	if want := []int{2, 4, 5, 11, 12, 13}; !slices.Equal(lines, want) {
		t.Errorf("statement lines %v, want %v", lines, want)
	}
	if want := []string{"CREATE", "INSERT", "CREATE", "EXPLAIN", "BEGIN", "SELECT"}; !slices.Equal(firsts, want) {
		t.Errorf("statements start with %v, want %v", firsts, want)
	}
	if !strings.HasSuffix(stmts[2].SQL, "END;") || !strings.Contains(stmts[2].SQL, "SELECT CASE") {
		t.Errorf("trigger statement cut: %q", stmts[2].SQL)
	}
	var texts []string
	for _, c := range comments {
		texts = append(texts, strings.TrimSpace(c.Text))
		if strings.Contains(c.Text, "lint:allow") && c.Line != 4 {
			t.Errorf("block comment line %d, want 4", c.Line)
		}
	}
	if !slices.Contains(texts, "lint:allow D1 in a block */") && !slices.Contains(texts, "lint:allow D1 in a block") {
		t.Errorf("comments %q lack the block comment's second line", texts)
	}
}

// TestSplitShipped splits every shipped migration: each statement starts
// on its line and ends at a semicolon, and trigger bodies stay whole.
func TestSplitShipped(t *testing.T) {
	files, err := filepath.Glob("../../schema/0*.sql")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		stmts, _ := Split(string(b))
		triggers := 0
		for _, s := range stmts {
			if !strings.HasSuffix(s.SQL, ";") {
				t.Errorf("%s:%d: statement does not end at a semicolon: %q", f, s.Line, s.SQL)
			}
			if len(s.tokens) > 2 && s.tokens[1].is("TRIGGER") {
				triggers++
				if !strings.HasSuffix(s.SQL, "END;") {
					t.Errorf("%s:%d: trigger cut: %q", f, s.Line, s.SQL)
				}
			}
			if line := strings.Split(string(b), "\n")[s.Line-1]; !strings.HasPrefix(strings.TrimSpace(line), s.tokens[0].text) {
				t.Errorf("%s:%d: line %q does not start the statement %q", f, s.Line, line, s.SQL)
			}
		}
		if want := strings.Count(string(b), "CREATE TRIGGER"); triggers != want {
			t.Errorf("%s: %d triggers, want %d", f, triggers, want)
		}
		if want := strings.Count(string(b), ";\n"); len(stmts) > want {
			t.Errorf("%s: %d statements, more than %d semicolons", f, len(stmts), want)
		}
	}
}
