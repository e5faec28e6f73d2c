// Package tsgen writes gen/ts/types.ts, the TypeScript types of the JSON the
// Go service serves: the models and query rows a gen/db query returns (a
// model no query returns, such as a new table's, is not served), the enums, the
// org API key view and the error body; and of the request bodies it
// decodes (the settings patch, a new invite, an org API key). It reads the Go packages' full type
// information from their compiled export data (go list -export and
// golang.org/x/tools/go/gcexportdata) and maps each type by its JSON
// encoding:
//
//   - enums (string types with constants) → string-literal unions;
//   - orgdb.Time → string (RFC 3339); a pointer T → T | null;
//   - orgdb.EmailList → string (its JSON is the comma-separated list);
//   - slices → arrays; maps → Record;
//   - struct fields by their json tags: "-" omitted, omitempty optional
//     (field?: T); an omitempty pointer is T, not T | null, because
//     encoding/json leaves a nil pointer out rather than writing null.
//
// A type with its own JSON encoding that tsgen does not know is an error,
// so a new one cannot be typed wrongly in silence.
//
// make generate (internal/cmd/generate) calls it with an overlay holding
// the gen/db sqlc has just written into a temporary directory: tsgen
// type-checks that code in place of the gen/db on disk, so nothing in the
// working tree changes before every generator has succeeded. The command
// internal/cmd/tsgen runs it alone.
package tsgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/token"
	"go/types"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/gcexportdata"
)

const (
	orgdbPkg = "github.com/agentops/orgdb"
	dbPkg    = "github.com/agentops/orgdb/gen/db"
	storePkg = "github.com/agentops/orgdb/store"
	sealPkg  = "github.com/agentops/orgdb/seal"
)

// roots are the types written, with everything they refer to: every struct
// of gen/db a method of Queries returns, plus these (the last three are
// request bodies the service decodes).
var roots = map[string][]string{
	orgdbPkg: {"UserRole", "IntegrationScope", "Provider", "InviteStatus", "Code", "ErrorBody"},
	storePkg: {"OrgAPIKeyView", "LLMKey", "KeySource", "OrgSettingsPatch", "NewInvite", "OrgAPIKeyInput"},
}

// known maps types with their own JSON encoding to TypeScript.
var known = map[string]string{
	orgdbPkg + ".Time":      "string",
	orgdbPkg + ".EmailList": "string",
	sealPkg + ".Secret":     "string", // read from a request; written only as "[REDACTED]"
}

type generator struct {
	pkgs    map[string]*types.Package
	done    map[*types.TypeName]bool
	queue   []*types.TypeName
	enums   bytes.Buffer
	structs bytes.Buffer
}

// DBOverlay makes the Go files of dir stand in for those of target (the
// gen/db folder of the module): each file of dir replaces or adds the file
// of the same name in target, and a file of target that dir lacks becomes
// an empty file of the package, as if deleted.
func DBOverlay(dir, target string) (map[string][]byte, error) {
	target, err := filepath.Abs(target)
	if err != nil {
		return nil, err
	}
	overlay := map[string][]byte{}
	fresh, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	if len(fresh) == 0 {
		return nil, fmt.Errorf("-db %s: no Go files", dir)
	}
	for _, f := range fresh {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		overlay[filepath.Join(target, filepath.Base(f))] = b
	}
	stale, err := filepath.Glob(filepath.Join(target, "*.go"))
	if err != nil {
		return nil, err
	}
	for _, f := range stale {
		if _, ok := overlay[f]; !ok {
			overlay[f] = []byte("package db\n")
		}
	}
	return overlay, nil
}

// Generate returns the content of types.ts. overlay, if not nil, replaces
// files of the module as they are read (see DBOverlay).
func Generate(overlay map[string][]byte) ([]byte, error) {
	pkgs, err := load(overlay, orgdbPkg, dbPkg, storePkg)
	if err != nil {
		return nil, err
	}
	g := &generator{pkgs: pkgs, done: map[*types.TypeName]bool{}}
	// The models and rows a query returns: what the service can serve. A
	// model no query returns yet (a new table) is not served, so not typed.
	queries, ok := g.pkgs[dbPkg].Scope().Lookup("Queries").(*types.TypeName)
	if !ok {
		return nil, fmt.Errorf("%s.Queries not found", dbPkg)
	}
	returned := map[*types.TypeName]bool{}
	methods := types.NewMethodSet(types.NewPointer(queries.Type()))
	for i := range methods.Len() {
		sig, ok := methods.At(i).Type().(*types.Signature)
		if !ok || !methods.At(i).Obj().Exported() {
			continue
		}
		for j := range sig.Results().Len() {
			t := types.Unalias(sig.Results().At(j).Type())
			if sl, ok := t.(*types.Slice); ok {
				t = types.Unalias(sl.Elem())
			}
			named, ok := t.(*types.Named)
			if !ok || named.Obj().Pkg() != g.pkgs[dbPkg] || named.Obj() == queries {
				continue
			}
			if st, isStruct := named.Underlying().(*types.Struct); isStruct && slices.ContainsFunc(fields(st), (*types.Var).Exported) {
				returned[named.Obj()] = true
			}
		}
	}
	for _, name := range g.pkgs[dbPkg].Scope().Names() { // sorted: a stable order
		if tn, ok := g.pkgs[dbPkg].Scope().Lookup(name).(*types.TypeName); ok && returned[tn] {
			g.queue = append(g.queue, tn)
		}
	}
	for _, pkg := range slices.Sorted(maps.Keys(roots)) {
		for _, name := range roots[pkg] {
			tn, ok := g.pkgs[pkg].Scope().Lookup(name).(*types.TypeName)
			if !ok {
				return nil, fmt.Errorf("%s.%s not found", pkg, name)
			}
			g.queue = append(g.queue, tn)
		}
	}
	for len(g.queue) > 0 {
		tn := g.queue[0]
		g.queue = g.queue[1:]
		if g.done[tn] {
			continue
		}
		g.done[tn] = true
		if err := g.declare(tn); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	b.WriteString("// Code generated by make generate (internal/tsgen). DO NOT EDIT.\n" +
		"// The JSON the Go service serves and the request bodies it decodes, from the Go\n" +
		"// types of github.com/agentops/orgdb. Times are RFC 3339 strings. An optional\n" +
		"// field (field?: T) is left out when unset, never null. tools/ts/client-compat.ts\n" +
		"// checks these against the web client's shared types.\n")
	b.Write(g.enums.Bytes())
	b.Write(g.structs.Bytes())
	return b.Bytes(), nil
}

// declare writes the declaration of one named type, in the order of the
// queue: deterministic because the queue starts sorted and fields are
// visited in order.
func (g *generator) declare(tn *types.TypeName) error {
	named := tn.Type().(*types.Named)
	if vals := enumValues(tn); len(vals) > 0 {
		quoted := make([]string, len(vals))
		for i, v := range vals {
			quoted[i] = "'" + v + "'"
		}
		fmt.Fprintf(&g.enums, "\nexport type %s = %s;\n", tn.Name(), strings.Join(quoted, " | "))
		return nil
	}
	st, ok := named.Underlying().(*types.Struct)
	if !ok {
		return fmt.Errorf("%s: not a struct or an enum", qualified(tn))
	}
	if hasJSONMethod(named) {
		return fmt.Errorf("%s has its own JSON encoding: add it to tsgen's known types", qualified(tn))
	}
	fmt.Fprintf(&g.structs, "\nexport interface %s {\n", tn.Name())
	for i := range st.NumFields() {
		f := st.Field(i)
		if !f.Exported() {
			continue
		}
		name, omitempty, skip := jsonName(f.Name(), st.Tag(i))
		if skip {
			continue
		}
		if f.Embedded() {
			return fmt.Errorf("%s: embedded field %s: not supported", qualified(tn), f.Name())
		}
		ft := f.Type()
		if p, ok := types.Unalias(ft).(*types.Pointer); ok && omitempty {
			ft = p.Elem()
		}
		ts, err := g.tsType(ft)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", tn.Name(), f.Name(), err)
		}
		opt := ""
		if omitempty {
			opt = "?"
		}
		fmt.Fprintf(&g.structs, "  %s%s: %s;\n", name, opt, ts)
	}
	g.structs.WriteString("}\n")
	return nil
}

func (g *generator) tsType(t types.Type) (string, error) {
	switch t := types.Unalias(t).(type) {
	case *types.Pointer:
		inner, err := g.tsType(t.Elem())
		return inner + " | null", err
	case *types.Named:
		tn := t.Obj()
		if ts, ok := known[qualified(tn)]; ok {
			return ts, nil
		}
		if len(enumValues(tn)) > 0 {
			g.queue = append(g.queue, tn)
			return tn.Name(), nil
		}
		if _, ok := t.Underlying().(*types.Struct); ok {
			g.queue = append(g.queue, tn)
			return tn.Name(), nil
		}
		if hasJSONMethod(t) {
			return "", fmt.Errorf("%s has its own JSON encoding: add it to tsgen's known types", qualified(tn))
		}
		return g.tsType(t.Underlying())
	case *types.Basic:
		switch {
		case t.Info()&types.IsString != 0:
			return "string", nil
		case t.Info()&types.IsBoolean != 0:
			return "boolean", nil
		case t.Info()&types.IsNumeric != 0:
			return "number", nil
		}
	case *types.Slice:
		inner, err := g.tsType(t.Elem())
		if strings.Contains(inner, " ") {
			inner = "(" + inner + ")"
		}
		return inner + "[]", err
	case *types.Map:
		v, err := g.tsType(t.Elem())
		return "Record<string, " + v + ">", err
	case *types.Interface:
		if t.Empty() {
			return "unknown", nil
		}
	}
	return "", fmt.Errorf("no TypeScript for Go type %s", t)
}

// enumValues returns the values of the string constants of tn's type in
// its package, in declaration order; none if tn is not a string type.
func enumValues(tn *types.TypeName) []string {
	if b, ok := tn.Type().Underlying().(*types.Basic); !ok || b.Info()&types.IsString == 0 {
		return nil
	}
	type val struct {
		pos int
		v   string
	}
	var vals []val
	scope := tn.Pkg().Scope()
	for _, name := range scope.Names() {
		c, ok := scope.Lookup(name).(*types.Const)
		if ok && types.Identical(c.Type(), tn.Type()) {
			v, _ := strconv.Unquote(c.Val().ExactString())
			vals = append(vals, val{int(c.Pos()), v})
		}
	}
	slices.SortFunc(vals, func(a, b val) int { return a.pos - b.pos })
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.v
	}
	return out
}

func hasJSONMethod(t types.Type) bool {
	ms := types.NewMethodSet(types.NewPointer(t))
	for _, m := range []string{"MarshalJSON", "MarshalText"} {
		if ms.Lookup(nil, m) != nil {
			return true
		}
	}
	return false
}

// jsonName applies encoding/json's tag rules.
func jsonName(field, tag string) (name string, omitempty, skip bool) {
	v, ok := reflect.StructTag(tag).Lookup("json")
	if v == "-" {
		return "", false, true
	}
	name = field
	if ok {
		parts := strings.Split(v, ",")
		if parts[0] != "" {
			name = parts[0]
		}
		omitempty = slices.Contains(parts[1:], "omitempty") || slices.Contains(parts[1:], "omitzero")
	}
	return name, omitempty, false
}

func fields(st *types.Struct) []*types.Var {
	out := make([]*types.Var, st.NumFields())
	for i := range out {
		out[i] = st.Field(i)
	}
	return out
}

func qualified(tn *types.TypeName) string { return tn.Pkg().Path() + "." + tn.Name() }

// GoCommand is the go command that lists and compiles the packages.
var GoCommand = "go"

// load returns the types of pkgs from their compiled export data (go list
// -export, so the build cache serves every unchanged package), with overlay
// applied to the sources. Loading from export data keeps a warm run fast:
// go/packages type-checks every package with an overlaid file, and its
// importers, from source. A package that does not compile is an error
// carrying the compiler's file:line messages.
func load(overlay map[string][]byte, pkgs ...string) (map[string]*types.Package, error) {
	args := []string{"list", "-e", "-export", "-deps", "-json=ImportPath,Export,Error,DepsErrors"}
	// The compiler names overlaid files by their stand-ins; messages name
	// them by the files they replace, relative to the working directory.
	var names []string
	if len(overlay) > 0 {
		dir, err := os.MkdirTemp("", "tsgen-overlay-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		replace := map[string]string{}
		i := 0
		for target, content := range overlay {
			f := filepath.Join(dir, strconv.Itoa(i)+".go")
			i++
			if err := os.WriteFile(f, content, 0o644); err != nil {
				return nil, err
			}
			replace[target] = f
			name := target
			if wd, err := os.Getwd(); err == nil {
				if rel, err := filepath.Rel(wd, target); err == nil && !strings.HasPrefix(rel, "..") {
					name = rel
				}
			}
			names = append(names, f, name)
			// The go command names a file by its path relative to the
			// working directory when that is shorter (a module under
			// /tmp, beside this directory): that form too.
			if wd, err := os.Getwd(); err == nil {
				if rel, err := filepath.Rel(wd, f); err == nil && rel != f {
					names = append(names, rel, name)
				}
			}
		}
		b, err := json.Marshal(map[string]any{"Replace": replace})
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "overlay.json"), b, 0o644); err != nil {
			return nil, err
		}
		args = append(args, "-overlay="+filepath.Join(dir, "overlay.json"))
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(GoCommand, append(args, pkgs...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	type listErr struct{ Pos, Err string }
	exports := map[string]string{}
	var problems []string
	for dec := json.NewDecoder(&stdout); dec.More(); {
		var p struct {
			ImportPath, Export string
			Error              *listErr
			DepsErrors         []*listErr
		}
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list: %w", err)
		}
		for _, e := range append([]*listErr{p.Error}, p.DepsErrors...) {
			if e != nil && !slices.Contains(problems, strings.TrimSpace(e.Pos+" "+e.Err)) {
				problems = append(problems, strings.TrimSpace(e.Pos+" "+e.Err))
			}
		}
		exports[p.ImportPath] = p.Export
	}
	if msg := strings.TrimSpace(stderr.String()); runErr != nil || len(problems) > 0 {
		if msg != "" {
			problems = append(problems, msg)
		}
		if len(problems) == 0 {
			problems = append(problems, fmt.Sprint(runErr))
		}
		msg = strings.NewReplacer(names...).Replace(strings.Join(problems, "\n"))
		return nil, fmt.Errorf("the Go packages do not compile:\n  %s", strings.ReplaceAll(msg, "\n", "\n  "))
	}
	fset := token.NewFileSet()
	imported := map[string]*types.Package{}
	out := map[string]*types.Package{}
	for _, path := range pkgs {
		file := exports[path]
		if file == "" {
			return nil, fmt.Errorf("go list: no export data for %s", path)
		}
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		//lint:ignore SA1019 go list -export names compiler archives, which need NewReader until Go 1.29 (go/packages reads them the same way)
		r, err := gcexportdata.NewReader(bufio.NewReader(f))
		if err == nil {
			out[path], err = gcexportdata.Read(r, fset, imported, path)
		}
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read export data of %s: %w", path, err)
		}
	}
	return out, nil
}
