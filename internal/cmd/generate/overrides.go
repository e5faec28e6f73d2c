package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/internal/catalog"
	"github.com/agentops/orgdb/schema"
	_ "github.com/mattn/go-sqlite3" // the driver the runner migrates the scratch database with
)

// The omitempty rule follows from the catalog, not from sqlc.yaml: every
// nullable column is optional for the web client (name?: string), so its
// JSON field is left out when unset, never written as null. sqlc has no
// generic switch for this (go_struct_tag replaces the whole json tag, name
// included), so make generate derives one override per nullable column
// from the migrated catalog and passes sqlc a configuration that is
// sqlc.yaml plus those lines; sqlc.yaml holds only human decisions. A
// column an override of sqlc.yaml already names (a go_type or tag chosen
// by hand, wildcards included) is left to it. go run ./internal/cmd/generate
// -config prints what sqlc gets. TestNullableOmitEmpty (db_test.go) guards
// the rule on the generated structs.

// derivedConfig migrates a scratch database with the production runner and
// returns sqlc.yaml with the derived overrides added.
func (g *run) derivedConfig() ([]byte, error) {
	human, err := os.ReadFile(filepath.Join(g.root, "sqlc.yaml"))
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	cat, err := migratedCatalog(context.Background(), filepath.Join(g.root, "schema"), g.tmp)
	if err != nil {
		return nil, err
	}
	return withOverrides(human, nullableOverrides(cat, humanColumns(human)))
}

func migratedCatalog(ctx context.Context, dir, tmp string) (catalog.Catalog, error) {
	db, err := sql.Open("sqlite3", dbfile.DSN(filepath.Join(tmp, "overrides.db")))
	if err != nil {
		return catalog.Catalog{}, err
	}
	defer db.Close()
	if _, err := schema.Migrate(ctx, db, os.DirFS(dir)); err != nil {
		return catalog.Catalog{}, fmt.Errorf("generate: the migrations do not apply: %w", err)
	}
	return catalog.Read(ctx, db)
}

// override is one derived entry: a column and its JSON name.
type override struct{ column, json string }

// nullableOverrides is one override per nullable column (not NOT NULL, not
// part of the primary key) that no pattern in human matches.
func nullableOverrides(cat catalog.Catalog, human []string) []override {
	var out []override
	for _, t := range cat.Tables {
		for _, c := range t.Columns {
			if c.NotNull || c.PK {
				continue
			}
			col := strings.ToLower(t.Name + "." + c.Name)
			if matchesAny(human, col) {
				continue
			}
			out = append(out, override{column: t.Name + "." + c.Name, json: camel(c.Name)})
		}
	}
	return out
}

func matchesAny(patterns []string, col string) bool {
	for _, p := range patterns {
		if ok, err := path.Match(strings.ToLower(p), col); err == nil && ok {
			return true
		}
	}
	return false
}

// camel is sqlc's json_tags_case_style camel: avatar_url → avatarUrl.
func camel(name string) string {
	parts := strings.Split(name, "_")
	for i, p := range parts {
		if i > 0 && p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}

var (
	columnLine    = regexp.MustCompile(`(?m)^\s*-?\s*column:\s*["']?([^"'\s#]+)`)
	overridesLine = regexp.MustCompile(`(?m)^([ \t]*)overrides:[ \t]*$`)
	itemLine      = regexp.MustCompile(`^([ \t]*)- `)
)

// humanColumns lists the column patterns of sqlc.yaml's overrides.
func humanColumns(yaml []byte) []string {
	var out []string
	for _, m := range columnLine.FindAllSubmatch(yaml, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// withOverrides appends the derived entries to the overrides list of
// sqlc.yaml (its first and only one), indented like its items.
func withOverrides(yaml []byte, derived []override) ([]byte, error) {
	loc := overridesLine.FindSubmatchIndex(yaml)
	if loc == nil {
		return nil, fmt.Errorf("generate: sqlc.yaml has no \"overrides:\" list under gen: go:, where make generate adds the omitempty tags of nullable columns: add one (it may hold a single human override)")
	}
	if len(overridesLine.FindAllIndex(yaml, -1)) > 1 {
		return nil, fmt.Errorf("generate: sqlc.yaml has several \"overrides:\" lists; make generate derives the nullable columns' tags for one sql entry only")
	}
	keyIndent := string(yaml[loc[2]:loc[3]])
	// The list runs from the line after "overrides:" to the last line of
	// its last item; blank lines and comments after it belong to what
	// follows.
	itemIndent, end, pending := "", loc[1]+1, 0
	for _, l := range strings.SplitAfter(string(yaml[min(loc[1]+1, len(yaml)):]), "\n") {
		trimmed := strings.TrimSpace(l)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			pending += len(l)
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " \t"))
		if itemIndent == "" {
			m := itemLine.FindStringSubmatch(l)
			if m == nil || indent < len(keyIndent) {
				break
			}
			itemIndent = m[1]
		}
		if indent < len(itemIndent) || indent == len(itemIndent) && !strings.HasPrefix(trimmed, "- ") {
			break
		}
		end += pending + len(l)
		pending = 0
	}
	end = min(end, len(yaml))
	if itemIndent == "" {
		itemIndent = keyIndent + "  "
	}
	var b strings.Builder
	b.Write(yaml[:end])
	if end > 0 && yaml[end-1] != '\n' {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s# Derived by make generate from the migrated catalog (internal/cmd/generate):\n", itemIndent)
	fmt.Fprintf(&b, "%s# every nullable column that no override above names is omitempty in JSON.\n", itemIndent)
	for _, o := range derived {
		fmt.Fprintf(&b, "%s- column: %s\n%s  go_struct_tag: json:\"%s,omitempty\"\n", itemIndent, o.column, itemIndent, o.json)
	}
	b.Write(yaml[end:])
	return []byte(b.String()), nil
}

// printConfig prints the configuration sqlc gets.
func (g *run) printConfig() error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	g.root = root
	if g.tmp, err = os.MkdirTemp("", "orgdb-generate-"); err != nil {
		return err
	}
	defer os.RemoveAll(g.tmp)
	config, err := g.derivedConfig()
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(config)
	return err
}
