// Package shipped says which migrations have shipped, and refuses a change
// to one. It is the single definition make generate, make resum and make
// check (sumcheck) use:
//
// A migration has shipped when it is listed in the schema/migrations.sum of
// the branch new work merges into (origin/main or main, those this clone
// has; SHIPPED=<ref> or -base <ref> names others), read at the merge base
// of that branch and HEAD: what the branch held when this work forked from
// it, or last merged it. A migration main added later is not this branch's
// to have, and a file this branch added is its own until it merges: it may
// be edited, renumbered or deleted freely. Without such a branch, HEAD's
// migrations.sum stands in; outside a git clone, the folder's own.
//
// A shipped migration may not be edited, deleted or renamed: databases
// that applied it keep the text they ran, and the runner refuses a file
// whose checksum changed. The one exception is an edit of comments or
// layout only, which make resum verifies and records in the branch's
// migrations.sum (databases that applied the old text then need orgdb
// migrate --repair-checksums).
package shipped

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/agentops/orgdb/internal/migratelint"
	"github.com/agentops/orgdb/schema"
)

// DefaultRefs are the branches whose migrations.sum lists the shipped
// migrations when none is named: the remote's main (a fresh CI clone has
// it) and the local one.
var DefaultRefs = []string{"origin/main", "main"}

// EnvRefs is the environment variable that names other branches (several
// separated by commas or spaces), as -base does.
const EnvRefs = "SHIPPED"

// Base is the set of shipped migrations and where it was read.
type Base struct {
	From   string            // for messages: "main's schema/migrations.sum at 1a2b3c4d"
	Commit string            // the commit it was read at; "" for the folder's own migrations.sum
	Files  map[string]string // file name → sha256
	dir    string
}

// Refs returns the branches to read: refs if given, else those named in
// $SHIPPED, else DefaultRefs. explicit says whether they were named (each
// must then exist).
func Refs(refs []string) (out []string, explicit bool) {
	if len(refs) > 0 {
		return refs, true
	}
	if env := strings.FieldsFunc(os.Getenv(EnvRefs), func(r rune) bool { return r == ',' || r == ' ' }); len(env) > 0 {
		return env, true
	}
	return DefaultRefs, false
}

// Find reads the shipped migrations of the folder dir (see the package
// documentation) from the first of refs this clone has, judged at its
// merge base with HEAD. refs are as Refs returns them.
func Find(ctx context.Context, dir string, refs []string, explicit bool) (Base, error) {
	if _, err := exec.LookPath("git"); err == nil {
		if _, err := git(ctx, dir, "rev-parse", "--verify", "-q", "HEAD^{commit}"); err == nil {
			for _, ref := range refs {
				if _, err := git(ctx, dir, "rev-parse", "--verify", "-q", ref+"^{commit}"); err != nil {
					if explicit {
						return Base{}, fmt.Errorf("shipped: %s: no such revision in this clone (git fetch it, or name another with %s=<ref>)", ref, EnvRefs)
					}
					continue
				}
				mb, err := git(ctx, dir, "merge-base", "HEAD", ref)
				if err != nil {
					// No common history in this clone (a shallow one): the
					// branch's tip is the best guess.
					return at(ctx, dir, ref, ref+" (its tip: no merge base with HEAD in this clone)")
				}
				return at(ctx, dir, strings.TrimSpace(mb), ref)
			}
			if explicit {
				return Base{}, fmt.Errorf("shipped: none of %s in this clone", strings.Join(refs, ", "))
			}
			return at(ctx, dir, "HEAD", "HEAD (no "+strings.Join(refs, " or ")+" in this clone)")
		}
	}
	own := filepath.Join(dir, "migrations.sum")
	b, err := os.ReadFile(own)
	if errors.Is(err, os.ErrNotExist) {
		return Base{From: own + " (none yet)", Files: map[string]string{}, dir: dir}, nil
	}
	if err != nil {
		return Base{}, err
	}
	s, err := migratelint.ParseSum(own, b)
	if err != nil {
		return Base{}, err
	}
	return Base{From: own + " (not a git clone)", Files: s.Files, dir: dir}, nil
}

// at reads the migrations.sum of dir at commit.
func at(ctx context.Context, dir, commit, ref string) (Base, error) {
	full, err := git(ctx, dir, "rev-parse", commit)
	if err != nil {
		return Base{}, err
	}
	full = strings.TrimSpace(full)
	from := fmt.Sprintf("%s's %s/migrations.sum at %.8s", ref, filepath.Base(dir), full)
	b := Base{From: from, Commit: full, Files: map[string]string{}, dir: dir}
	sum, err := git(ctx, dir, "show", full+":./migrations.sum")
	if err != nil {
		return b, nil // no migrations.sum there: nothing shipped yet
	}
	s, err := migratelint.ParseSum(from, []byte(sum))
	if err != nil {
		return Base{}, err
	}
	b.Files = s.Files
	return b, nil
}

// Content returns a shipped file's text as it shipped.
func (b Base) Content(ctx context.Context, file string) (string, error) {
	if b.Commit == "" {
		return "", fmt.Errorf("%s: the shipped text is not known outside a git clone", file)
	}
	return git(ctx, b.dir, "show", b.Commit+":./"+file)
}

// Check compares the migrations now in the folder with the shipped ones.
// own is the branch's migrations.sum (file → sha256, nil if none): an edit
// of a shipped file it records is accepted when only comments and layout
// changed (make resum wrote it). With resum, every such edit is accepted.
// It returns one message per shipped file edited, deleted or renamed, and
// the files whose comment-only edit it accepted.
func (b Base) Check(ctx context.Context, ms []schema.Migration, own map[string]string, resum bool) (problems, accepted []string) {
	current := map[string]schema.Migration{}
	for _, m := range ms {
		current[m.File] = m
	}
	for _, f := range slices.Sorted(func(yield func(string) bool) {
		for f := range b.Files {
			if !yield(f) {
				return
			}
		}
	}) {
		sum := b.Files[f]
		path := filepath.ToSlash(filepath.Join(b.dir, f))
		m, ok := current[f]
		if !ok {
			what := "was deleted"
			for _, o := range ms {
				if o.SHA256 == sum {
					what = "was renamed to " + o.File
				}
			}
			problems = append(problems, fmt.Sprintf("%s has shipped (%s) and %s: a shipped migration stays as it is, under its name (databases record it by version and checksum).\n"+
				"  fix: restore it (%s); to change the schema, write a new migration (make new-migration NAME=...)",
				path, b.From, what, b.restore(ctx, f)))
			continue
		}
		if m.SHA256 == sum {
			continue
		}
		if resum || own[f] == m.SHA256 {
			if ok, why := b.commentOnly(ctx, f, m.SQL); ok {
				accepted = append(accepted, path)
				continue
			} else if resum {
				problems = append(problems, fmt.Sprintf("%s has shipped (%s) and its SQL changed, not only its comments (%s): make resum records comment-only edits only.\n"+
					"  fix: undo the edit (%s) and put the change in a new migration (make new-migration NAME=...)", path, b.From, why, b.restore(ctx, f)))
				continue
			}
		}
		problems = append(problems, fmt.Sprintf("%s has shipped (%s) and was edited (sha256 %.12s, shipped %.12s): databases that applied it keep the text they ran, and the runner refuses the changed file.\n"+
			"  fix: undo the edit (%s) and put the change in a new migration (make new-migration NAME=...); "+
			"if the edit changes only comments, make resum checks that and records it",
			path, b.From, m.SHA256, sum, b.restore(ctx, f)))
	}
	return problems, accepted
}

// restore is the command that puts a shipped file back: from the index
// when HEAD still holds it as shipped, else from the shipped commit.
func (b Base) restore(ctx context.Context, file string) string {
	path := filepath.ToSlash(filepath.Join(b.dir, file))
	if b.Commit != "" {
		if head, err := git(ctx, b.dir, "show", "HEAD:./"+file); err == nil {
			if sum := sha256.Sum256([]byte(head)); hex.EncodeToString(sum[:]) == b.Files[file] {
				return "git checkout -- " + path
			}
		}
		return fmt.Sprintf("git checkout %.12s -- %s", b.Commit, path)
	}
	return "git checkout -- " + path
}

// commentOnly reports whether now differs from the shipped text of file in
// comments and whitespace only, and if not, why.
func (b Base) commentOnly(ctx context.Context, file, now string) (bool, string) {
	was, err := b.Content(ctx, file)
	if err != nil {
		return false, err.Error()
	}
	if migratelint.Code(was) == migratelint.Code(now) {
		return true, ""
	}
	return false, "its statements differ once comments and whitespace are left out"
}

// ParseOwn reads the branch's migrations.sum in dir (nil if there is none).
func ParseOwn(dir string) (map[string]string, error) {
	p := filepath.Join(dir, "migrations.sum")
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := migratelint.ParseSum(p, b)
	if err != nil {
		return nil, err
	}
	return s.Files, nil
}

// Verify is Find, ParseOwn and Check for the folder dir, as make generate
// and make check run them: nil when no shipped migration changed (or only
// by a recorded comment-only edit), else an error with every problem.
func Verify(ctx context.Context, dir string, refs []string, resum bool) (accepted []string, err error) {
	refs, explicit := Refs(refs)
	base, err := Find(ctx, dir, refs, explicit)
	if err != nil {
		return nil, err
	}
	if err := base.collisions(dir); err != nil {
		return nil, err
	}
	ms, err := schema.Load(os.DirFS(dir))
	if err != nil {
		return nil, err
	}
	own, err := ParseOwn(dir)
	if err != nil {
		return nil, err
	}
	problems, accepted := base.Check(ctx, ms, own, resum)
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return accepted, nil
}

var numbered = regexp.MustCompile(`^(\d+)_(.+)\.sql$`)

// collisions names two migrations that share a version, the usual result
// of merging main when both branches took the next number, and which of
// them to renumber: the one that has not shipped, above every number in
// use.
func (b Base) collisions(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	byVersion := map[int][]string{}
	next, width := 0, 4
	for f := range b.Files {
		if m := numbered.FindStringSubmatch(f); m != nil {
			v, _ := strconv.Atoi(m[1])
			next = max(next, v+1)
		}
	}
	for _, e := range entries {
		m := numbered.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		byVersion[v] = append(byVersion[v], e.Name())
		next, width = max(next, v+1), len(m[1])
	}
	var problems []string
	for _, v := range slices.Sorted(maps.Keys(byVersion)) {
		files := byVersion[v]
		if len(files) < 2 {
			continue
		}
		var mine, theirs []string
		for _, f := range files {
			if _, ok := b.Files[f]; ok {
				theirs = append(theirs, f)
			} else {
				mine = append(mine, f)
			}
		}
		msg := fmt.Sprintf("%s share version %d (two branches took the same number)", strings.Join(files, " and "), v)
		if len(theirs) > 1 || len(mine) == 0 {
			problems = append(problems, msg+": restore the shipped files as they shipped")
			continue
		}
		var moves []string
		for _, f := range mine {
			name := numbered.FindStringSubmatch(f)[2]
			moves = append(moves, fmt.Sprintf("git mv %s %s", filepath.Join(dir, f), filepath.Join(dir, fmt.Sprintf("%0*d_%s.sql", width, next, name))))
			next++
		}
		what := "it has not shipped"
		if len(theirs) == 1 {
			what = fmt.Sprintf("%s has shipped (%s), %s has not", theirs[0], b.From, strings.Join(mine, " and "))
		}
		problems = append(problems, fmt.Sprintf("%s; %s: renumber yours: %s, then make generate", msg, what, strings.Join(moves, "; ")))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
