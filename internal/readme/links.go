package readme

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// link matches a Markdown link or image, [text](target), capturing the
// target (up to a space, which would start a title).
var link = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// inlineCode matches `code` spans, whose text is not a link.
var inlineCode = regexp.MustCompile("`[^`]*`")

// BrokenLinks checks every link of the Markdown files docs (paths relative
// to root) and returns one line per problem, naming the file, the line and
// the target: a relative link must name a file or directory inside root
// (a clone has nothing outside it), and its #anchor, if any, a heading of
// that Markdown file (GitHub's anchors: lower case, punctuation dropped,
// spaces as -). Links with a scheme (https:, mailto:) are not checked.
// pending lists files another branch is writing: a link to one of them is
// accepted while it is missing, and checked like any other once it exists.
func BrokenLinks(root string, docs []string, pending map[string]string) ([]string, error) {
	var problems []string
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("readme: %w", err)
	}
	for _, doc := range docs {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(doc)))
		if err != nil {
			return nil, fmt.Errorf("readme: %w", err)
		}
		inFence := false
		for i, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimLeft(l, " "), "```") {
				inFence = !inFence
				continue
			}
			if inFence {
				continue
			}
			for _, m := range link.FindAllStringSubmatch(inlineCode.ReplaceAllString(l, ""), -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				where := fmt.Sprintf("%s:%d: (%s)", doc, i+1, target)
				file, anchor, _ := strings.Cut(target, "#")
				dest := filepath.Join(absRoot, filepath.FromSlash(doc))
				if file != "" {
					dest = filepath.Join(filepath.Dir(dest), filepath.FromSlash(file))
				}
				rel, err := filepath.Rel(absRoot, dest)
				if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
					problems = append(problems, where+" points outside the repository, which a clone does not have: copy what it needs into docs/")
					continue
				}
				if !exists(dest) {
					if _, ok := pending[filepath.ToSlash(rel)]; ok {
						continue
					}
					problems = append(problems, where+" names a file that does not exist")
					continue
				}
				if anchor == "" || !strings.HasSuffix(dest, ".md") {
					continue
				}
				anchors, err := Anchors(dest)
				if err != nil {
					return nil, err
				}
				if !anchors[anchor] {
					problems = append(problems, fmt.Sprintf("%s: %s has no heading with the anchor #%s", where, filepath.ToSlash(rel), anchor))
				}
			}
		}
	}
	return problems, nil
}

// Anchors returns the anchors GitHub gives the headings of the Markdown
// file at path.
func Anchors(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("readme: %w", err)
	}
	out := map[string]bool{}
	inFence := false
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "```") {
			inFence = !inFence
			continue
		}
		if inFence || !strings.HasPrefix(l, "#") {
			continue
		}
		a := Anchor(strings.TrimSpace(strings.TrimLeft(l, "#")))
		for n := 1; out[a]; n++ { // GitHub numbers repeated headings
			a = fmt.Sprintf("%s-%d", Anchor(strings.TrimSpace(strings.TrimLeft(l, "#"))), n)
		}
		out[a] = true
	}
	return out, nil
}

// Anchor is GitHub's anchor of a heading: lower case, letters, digits, -
// and _ kept, spaces turned into -, everything else dropped.
func Anchor(heading string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			sb.WriteByte('-')
		case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || r > 127 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			sb.WriteRune(r)
		}
	}
	return sb.String()
}
