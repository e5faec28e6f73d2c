package migratelint

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
)

// allowance accepts the findings of one code in one migration.
type allowance struct {
	file   string // the migration's file name
	sha256 string // for the allow file: the file's checksum it was written for
	code   string
	reason string
	path   string // where it is written: the migration or the allow file
	line   int
	used   bool
}

var codeRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// parseAllowFile reads an allow file: one allowance per line,
//
//	FILE SHA256 CODE reason…
//
// for shipped migrations, which are never edited and so cannot carry a
// lint:allow comment. The allowance holds only while the file's sha256 is
// the one written: an edited migration loses it (and the runner refuses
// it anyway). Blank lines and lines starting with # are ignored.
func parseAllowFile(path, content string) ([]*allowance, error) {
	var out []*allowance
	sc := bufio.NewScanner(strings.NewReader(content))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 4 || len(f[1]) != 64 || !codeRe.MatchString(f[2]) {
			return nil, fmt.Errorf("%s:%d: want \"FILE SHA256 CODE reason\", got %q", path, n, l)
		}
		out = append(out, &allowance{file: f[0], sha256: f[1], code: f[2], reason: strings.Join(f[3:], " "), path: path, line: n})
	}
	return out, sc.Err()
}

func readAllowFile(path string) ([]*allowance, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("allow file: %w", err)
	}
	return parseAllowFile(path, string(b))
}

var inlineRe = regexp.MustCompile(`^\s*lint:allow\b\s*(\S*)\s*(.*?)\s*$`)

// settle marks the findings of one migration that an allowance accepts,
// and adds a finding for every inline allowance that is malformed or
// unused and every allow-file entry whose checksum no longer matches.
func settle(findings []Finding, r *replay, file []*allowance) []Finding {
	var allows []*allowance
	var out []Finding
	for _, c := range r.comments {
		m := inlineRe.FindStringSubmatch(c.Text)
		if m == nil {
			continue
		}
		switch {
		case !codeRe.MatchString(m[1]):
			out = append(out, Finding{Path: r.path, Line: c.Line, Code: Allow, Message: fmt.Sprintf("lint:allow needs a finding code, got %q: write -- lint:allow CODE reason", m[1])})
		case m[2] == "":
			out = append(out, Finding{Path: r.path, Line: c.Line, Code: Allow, Message: fmt.Sprintf("lint:allow %s needs a reason: write -- lint:allow %s why this is intended", m[1], m[1])})
		default:
			allows = append(allows, &allowance{file: r.m.File, code: m[1], reason: m[2], path: r.path, line: c.Line})
		}
	}
	for _, a := range file {
		if a.file != r.m.File {
			continue
		}
		if a.sha256 != r.m.SHA256 {
			a.used = true // reported here, not as unused
			out = append(out, Finding{Path: a.path, Line: a.line, Code: Allow,
				Message: fmt.Sprintf("allows %s for %s at sha256 %.12s, but the file now has sha256 %.12s: a shipped migration must not be edited; restore it (git checkout -- %s)", a.code, a.file, a.sha256, r.m.SHA256, r.path)})
			continue
		}
		allows = append(allows, a)
	}
	for i := range findings {
		f := &findings[i]
		if f.Code == Fails || f.Code == Allow {
			continue // a failing migration cannot be accepted
		}
		for _, a := range allows {
			if a.code == f.Code {
				f.Accepted, f.Reason, a.used = true, a.reason, true
			}
		}
	}
	for _, a := range allows {
		if !a.used && a.sha256 == "" {
			out = append(out, Finding{Path: a.path, Line: a.line, Code: Allow,
				Message: fmt.Sprintf("lint:allow %s, but the migration has no %s finding: remove the comment", a.code, a.code)})
		}
	}
	return append(findings, out...)
}
