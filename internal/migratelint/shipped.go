package migratelint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// ErrNoRevision means the clone has no such branch or revision.
var ErrNoRevision = errors.New("no such revision in this clone")

// ShippedAt reads the migrations.sum that git revision ref (a branch such
// as main or origin/main) holds in the folder dir, which must be inside a
// git work tree. A revision without a migrations.sum there ships nothing.
func ShippedAt(ctx context.Context, dir, ref string) (Shipped, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return Shipped{}, fmt.Errorf("git is not installed: %w", ErrNoGit)
	}
	if _, err := git(ctx, dir, "rev-parse", "--is-inside-work-tree"); err != nil {
		return Shipped{}, fmt.Errorf("%s: %w", dir, ErrNoGit)
	}
	if _, err := git(ctx, dir, "rev-parse", "--verify", "--quiet", ref+"^{commit}"); err != nil {
		return Shipped{}, fmt.Errorf("%s: %w", ref, ErrNoRevision)
	}
	from := ref + "'s " + filepath.ToSlash(filepath.Join(filepath.Base(dir), "migrations.sum"))
	if _, err := git(ctx, dir, "cat-file", "-e", ref+":./migrations.sum"); err != nil {
		return Shipped{From: from, Files: map[string]string{}}, nil
	}
	b, err := git(ctx, dir, "show", ref+":./migrations.sum")
	if err != nil {
		return Shipped{}, err
	}
	return ParseSum(from, b)
}

func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
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
			width := len(versionRe.FindStringSubmatch(m.File)[1])
			renamed := fmt.Sprintf("%0*d_%s.sql", width, next, m.Name)
			next++
			out[m.File] = append(out[m.File], Finding{Path: filepath.Join(dir, m.File), Line: 1, Code: VersionOrder,
				Message: fmt.Sprintf("%s is numbered %d, at or below %s, which %s already ships: a database at version %d refuses it (the runner never applies a version below its highest) "+
					"and a new database runs it in another order than production; renumber it above every shipped one (git mv %s %s, then make generate)",
					m.File, m.Version, top, s.From, topV, filepath.Join(dir, m.File), filepath.Join(dir, renamed))})
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
