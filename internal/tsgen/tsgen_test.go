package tsgen

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

// handWritten are the Go types types.ts holds besides those of gen/db (the
// roots tsgen adds by name).
var handWritten = []reflect.Type{
	reflect.TypeFor[orgdb.ErrorBody](),
	reflect.TypeFor[store.OrgAPIKeyView](),
	reflect.TypeFor[store.LLMKey](),
	reflect.TypeFor[store.OrgSettingsPatch](),
	reflect.TypeFor[store.NewInvite](),
	reflect.TypeFor[store.OrgAPIKeyInput](),
}

// goTypes are the Go types behind the TypeScript interfaces: every struct a
// generated query returns (found by reflection, so a new query's row type
// needs no entry here) and the hand-written ones.
func goTypes() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, t := range handWritten {
		out[t.Name()] = t
	}
	q := reflect.TypeFor[*db.Queries]()
	for i := range q.NumMethod() {
		m := q.Method(i).Type
		for j := range m.NumOut() {
			t := m.Out(j)
			if t.Kind() == reflect.Slice {
				t = t.Elem()
			}
			if t.Kind() == reflect.Struct && t.PkgPath() == reflect.TypeFor[db.User]().PkgPath() {
				out[t.Name()] = t
			}
		}
	}
	return out
}

var (
	interfaceRE = regexp.MustCompile(`(?s)export interface (\w+) \{\n(.*?)\n?\}`)
	fieldRE     = regexp.MustCompile(`^  (\w+)\??: (.+);$`)
	unionRE     = regexp.MustCompile(`export type (\w+) = (.+);`)
	literalRE   = regexp.MustCompile(`'([^']*)'`)
)

// parseTS reads the committed gen/ts/types.ts: interface → field → type,
// and union → literals.
func parseTS(t *testing.T) (map[string]map[string]string, map[string][]string) {
	t.Helper()
	b, err := os.ReadFile("../../gen/ts/types.ts")
	if err != nil {
		t.Fatal(err)
	}
	ifaces := map[string]map[string]string{}
	for _, m := range interfaceRE.FindAllStringSubmatch(string(b), -1) {
		fields := map[string]string{}
		for _, line := range strings.Split(m[2], "\n") {
			if f := fieldRE.FindStringSubmatch(line); f != nil {
				fields[f[1]] = f[2]
			} else if line != "" {
				t.Fatalf("%s: unparsed line %q", m[1], line)
			}
		}
		ifaces[m[1]] = fields
	}
	unions := map[string][]string{}
	for _, m := range unionRE.FindAllStringSubmatch(string(b), -1) {
		for _, l := range literalRE.FindAllStringSubmatch(m[2], -1) {
			unions[m[1]] = append(unions[m[1]], l[1])
		}
	}
	return ifaces, unions
}

// fill sets every field of v to a non-empty value, so that its JSON has
// every key; enum fields get the first literal of their TypeScript union.
func fill(t *testing.T, v reflect.Value, unions map[string][]string) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[orgdb.Time]():
		v.Set(reflect.ValueOf(orgdb.NewTime(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))))
		return
	case v.Kind() == reflect.String && v.Type().PkgPath() != "":
		lits := unions[v.Type().Name()]
		if len(lits) == 0 {
			t.Fatalf("no union for enum %s", v.Type())
		}
		v.SetString(lits[0])
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x@acme.test")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), unions)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(t, v.Index(0), unions)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v"))
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i), unions)
			}
		}
	default:
		t.Fatalf("fill: %s", v.Type())
	}
}

// TestTypesMatchGoJSON marshals one filled value of each Go type and checks
// that its JSON keys are exactly the keys of the TypeScript interface.
func TestTypesMatchGoJSON(t *testing.T) {
	ifaces, unions := parseTS(t)
	goTypes := goTypes()
	for name := range ifaces {
		if goTypes[name] == nil {
			t.Errorf("types.ts interface %s: no Go type returned by a gen/db query or listed in handWritten", name)
		}
	}
	for name := range goTypes {
		if ifaces[name] == nil {
			t.Errorf("Go type %s: no interface in types.ts (run make generate)", name)
		}
	}
	for name, typ := range goTypes {
		v := reflect.New(typ).Elem()
		fill(t, v, unions)
		b, err := json.Marshal(v.Interface())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		goKeys, tsKeys := slices.Sorted(maps.Keys(m)), slices.Sorted(maps.Keys(ifaces[name]))
		if !slices.Equal(goKeys, tsKeys) {
			t.Errorf("%s:\n Go JSON keys %v\n TS keys      %v", name, goKeys, tsKeys)
		}
		// And the kinds agree where the TypeScript type is simple.
		for k, ts := range ifaces[name] {
			switch val := m[k].(type) {
			case string:
				if ts != "string" && ts != "string | null" && unions[strings.TrimSuffix(ts, " | null")] == nil {
					t.Errorf("%s.%s: Go writes a string, TS says %s", name, k, ts)
				}
			case bool:
				if ts != "boolean" {
					t.Errorf("%s.%s: Go writes a boolean, TS says %s", name, k, ts)
				}
			case float64:
				if ts != "number" {
					t.Errorf("%s.%s: Go writes a number, TS says %s", name, k, ts)
				}
			case []any:
				if !strings.HasSuffix(ts, "[]") {
					t.Errorf("%s.%s: Go writes an array, TS says %s", name, k, ts)
				}
			case map[string]any:
				if !strings.HasPrefix(ts, "Record<") {
					t.Errorf("%s.%s: Go writes an object, TS says %s", name, k, ts)
				}
			default:
				t.Errorf("%s.%s: unexpected JSON %v", name, k, val)
			}
		}
	}
}

// The unions hold exactly the values Go accepts.
func TestUnionsMatchGoEnums(t *testing.T) {
	_, unions := parseTS(t)
	check := func(name string, goVals []string) {
		t.Helper()
		if !slices.Equal(unions[name], goVals) {
			t.Errorf("%s: TS %v, Go %v", name, unions[name], goVals)
		}
	}
	check("UserRole", strs(orgdb.UserRoles()))
	check("IntegrationScope", strs(orgdb.IntegrationScopes()))
	check("Provider", strs(orgdb.Providers()))
	check("InviteStatus", strs(orgdb.InviteStatuses()))
	check("KeySource", strs([]store.KeySource{store.SourceOrg, store.SourceEnv, store.SourceNone}))
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// The generator's output is what is committed (make check also catches
// this, by regenerating).
func TestGeneratedIsCommitted(t *testing.T) {
	if testing.Short() {
		t.Skip("loads packages with go list")
	}
	t.Chdir("../..")
	src, err := Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile("gen/ts/types.ts")
	if string(b) != string(src) {
		t.Error("gen/ts/types.ts is stale: run make generate")
	}
}

// With an overlay, tsgen reads a freshly generated gen/db in place of the
// one on disk, which stays as it is; code that does not compile is an
// error naming file:line.
func TestOverlay(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles packages with go list")
	}
	t.Chdir("../..")
	fresh := t.TempDir()
	files, err := filepath.Glob("gen/db/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("gen/db: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fresh, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	extra := filepath.Join(fresh, "zz_extra.go")
	if err := os.WriteFile(extra, []byte("package db\n\ntype ZzExtraRow struct {\n\tTimeZone *string `json:\"timeZone\"`\n}\n\n// ZzExtra returns it: a type no query returns is not served, not typed.\nfunc (q *Queries) ZzExtra() (ZzExtraRow, error) { return ZzExtraRow{}, nil }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, err := DBOverlay(fresh, "gen/db")
	if err != nil {
		t.Fatal(err)
	}
	src, err := Generate(overlay)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "export interface ZzExtraRow {\n  timeZone: string | null;\n}") {
		t.Errorf("the overlaid type is missing from types.ts:\n%s", src)
	}
	if _, err := os.Stat("gen/db/zz_extra.go"); !os.IsNotExist(err) {
		t.Errorf("the overlay reached the disk: %v", err)
	}

	if err := os.WriteFile(extra, []byte("package db\n\nvar broken int = \"text\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if overlay, err = DBOverlay(fresh, "gen/db"); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(overlay); err == nil || !strings.Contains(err.Error(), "gen/db/zz_extra.go:3") {
		t.Errorf("a compile error = %v, want it named with gen/db/zz_extra.go:3", err)
	}
}
