package migratelint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/agentops/orgdb/schema"
)

// Shipped is a set of migration files already shipped: summed in the
// migrations.sum of the branch that new migrations merge into. A new
// migration must be numbered above all of them (VERSION_ORDER).
type Shipped struct {
	From  string            // where the set was read, for messages: "main's migrations.sum"
	Files map[string]string // file name → sha256
}

// ParseSum reads a migrations.sum (lines "FILE SHA256", comments starting
// with #, a last line "total SHA256") as the shipped set from.
func ParseSum(from string, content []byte) (Shipped, error) {
	s := Shipped{From: from, Files: map[string]string{}}
	for n, l := range strings.Split(string(content), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 0, strings.HasPrefix(f[0], "#"), len(f) == 2 && f[0] == "total":
		case len(f) == 2 && len(f[1]) == 64:
			s.Files[f[0]] = f[1]
		default:
			return Shipped{}, fmt.Errorf("%s:%d: want \"FILE SHA256\", got %q", from, n+1, l)
		}
	}
	return s, nil
}

// ErrNoGit means the migration folder is not in a git work tree, or git
// is not installed: the shipped migrations cannot be read from a branch.
var ErrNoGit = errors.New("not in a git work tree")

// ShippedAt reads the migrations.sum that each git revision of refs
// (branches such as main or origin/main) holds in the folder dir, which
// must be inside a git work tree, with one git process. The result has an
// entry for each revision the clone has; a revision without a
// migrations.sum there ships nothing.
func ShippedAt(ctx context.Context, dir string, refs ...string) (map[string]Shipped, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, fmt.Errorf("git is not installed: %w", ErrNoGit)
	}
	var in strings.Builder
	for _, ref := range refs {
		if strings.ContainsAny(ref, " \t\n") {
			return nil, fmt.Errorf("revision %q: a revision has no spaces", ref)
		}
		fmt.Fprintf(&in, "%s^{commit}\n%s:./migrations.sum\n", ref, ref)
	}
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(in.String())
	cmd.Env = append(os.Environ(), "LC_ALL=C") // its messages in English, as read below
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "not a git repository") {
			return nil, fmt.Errorf("%s: %w", dir, ErrNoGit)
		}
		return nil, fmt.Errorf("git cat-file in %s: %w: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	objects := make([][]byte, 0, 2*len(refs)) // nil: missing
	for len(out) > 0 {
		nl := bytes.IndexByte(out, '\n')
		if nl < 0 {
			return nil, fmt.Errorf("git cat-file: truncated output %q", out)
		}
		head := strings.Fields(string(out[:nl]))
		out = out[nl+1:]
		if len(head) != 3 {
			objects = append(objects, nil) // "<name> missing" or "<name> ambiguous"
			continue
		}
		size, err := strconv.Atoi(head[2])
		if err != nil || size+1 > len(out) {
			return nil, fmt.Errorf("git cat-file: bad header %q", head)
		}
		objects = append(objects, out[:size])
		out = out[size+1:]
	}
	if len(objects) != 2*len(refs) {
		return nil, fmt.Errorf("git cat-file: %d answers for %d questions", len(objects), 2*len(refs))
	}
	res := map[string]Shipped{}
	for i, ref := range refs {
		if objects[2*i] == nil {
			continue // the clone has no such revision
		}
		from := ref + "'s " + filepath.ToSlash(filepath.Join(filepath.Base(dir), "migrations.sum"))
		sum := objects[2*i+1]
		if sum == nil {
			res[ref] = Shipped{From: from, Files: map[string]string{}}
			continue
		}
		s, err := ParseSum(from, sum)
		if err != nil {
			return nil, err
		}
		res[ref] = s
	}
	return res, nil
}

var versionRe = regexp.MustCompile(`^(\d+)_`)

// versionOrder returns, per migration file, the VERSION_ORDER findings: a
// migration no shipped set has, numbered at or below the highest one that
// set ships. Such a file is the usual merge collision (two branches took
// the next number, or a branch kept an old one): a database already at
// the shipped version refuses it, and a new one runs it in another order.
func versionOrder(dir string, ms []schema.Migration, shipped []Shipped) map[string][]Finding {
	out := map[string][]Finding{}
	next := 0
	for _, m := range ms {
		next = max(next, m.Version+1)
	}
	for _, s := range shipped {
		for f := range s.Files {
			if v, ok := fileVersion(f); ok {
				next = max(next, v+1)
			}
		}
	}
	for _, m := range ms {
		for _, s := range shipped {
			if _, ok := s.Files[m.File]; ok {
				continue
			}
			top, topV := "", -1
			for f := range s.Files {
				if v, ok := fileVersion(f); ok && (v > topV || v == topV && f > top) {
					top, topV = f, v
				}
			}
			if m.Version > topV {
				continue
			}
			effect := fmt.Sprintf("a database that applied %s refuses it (the runner applies no version below its highest), and a new database would run it before %s, unlike production", top, top)
			for f := range s.Files {
				if v, ok := fileVersion(f); ok && v == m.Version {
					effect = fmt.Sprintf("it takes the number of %s, and the runner refuses two migrations with one version", f)
				}
			}
			width := len(versionRe.FindStringSubmatch(m.File)[1])
			renamed := fmt.Sprintf("%0*d_%s.sql", width, next, m.Name)
			next++
			out[m.File] = append(out[m.File], Finding{Path: filepath.Join(dir, m.File), Line: 1, Code: VersionOrder,
				Message: fmt.Sprintf("%s is numbered %d, at or below %s, which %s already ships: %s; renumber it above every shipped one (git mv %s %s, then make generate)",
					m.File, m.Version, top, s.From, effect, filepath.Join(dir, m.File), filepath.Join(dir, renamed))})
			break // one set is enough to say so
		}
	}
	return out
}

func fileVersion(file string) (int, bool) {
	m := versionRe.FindStringSubmatch(file)
	if m == nil {
		return 0, false
	}
	v, err := strconv.Atoi(m[1])
	return v, err == nil
}
