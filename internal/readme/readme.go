// Package readme reads the repository's Markdown files (README.md and
// docs/*.md) for the tests that run them: the fenced code blocks a test
// executes, the sections it reads, and the checks that every shell block
// is run by some test (Unrun) and that every relative link resolves
// (BrokenLinks).
package readme

import (
	"fmt"
	"os"
	"strings"
)

// Block is one fenced code block of a Markdown file.
type Block struct {
	File    string // the path it was read from
	Line    int    // 1-based line of the opening fence
	Fence   string // the fence: ``` (or ~~~, which Unrun refuses)
	Lang    string // the first word of the fence's info string, lower case: sh, go, text, …
	Code    string // the lines between the fences, indentation of the fence removed
	Heading string // the title of the nearest heading above it, without #s
	Marker  string // the HTML comment on the nearest non-blank line above it, if any
	Before  string // the paragraph above it (markers left out), for blocks a test places by its text
}

// shellLangs are the fences whose blocks are commands: each must be run
// by a test (Unrun).
var shellLangs = map[string]bool{"sh": true, "bash": true, "console": true, "shell": true, "zsh": true}

// fenceOf returns the fence a line opens or closes (``` or ~~~, the
// start of trimmed), or "" for any other line.
func fenceOf(trimmed string) string {
	for _, f := range []string{"```", "~~~"} {
		if strings.HasPrefix(trimmed, f) {
			return f
		}
	}
	return ""
}

// IsShell reports whether lang is the info string of a shell block.
func IsShell(lang string) bool { return shellLangs[lang] }

// Blocks returns the fenced code blocks of the Markdown file at path, in
// order. An unclosed fence is an error naming its line.
func Blocks(path string) ([]Block, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("readme: %w", err)
	}
	lines := strings.Split(string(doc), "\n")
	var out []Block
	heading := ""
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		trimmed := strings.TrimLeft(l, " ")
		fence := fenceOf(trimmed)
		if fence == "" {
			if strings.HasPrefix(l, "#") {
				heading = strings.TrimSpace(strings.TrimLeft(l, "#"))
			}
			continue
		}
		indent := len(l) - len(trimmed)
		b := Block{File: path, Line: i + 1, Fence: fence, Heading: heading}
		// The language is the info string's first word: ```sh title="x" is sh.
		if f := strings.Fields(trimmed[len(fence):]); len(f) > 0 {
			b.Lang = strings.ToLower(strings.Trim(f[0], "{}."))
		}
		// The marker: the nearest non-blank line above, if it is a comment.
		j := i - 1
		for j >= 0 && strings.TrimSpace(lines[j]) == "" {
			j--
		}
		if j >= 0 && strings.HasPrefix(strings.TrimSpace(lines[j]), "<!--") {
			b.Marker = strings.TrimSpace(lines[j])
		}
		// The paragraph above: past blank lines and the marker, back to
		// the next blank line.
		k := i - 1
		for k >= 0 && (strings.TrimSpace(lines[k]) == "" || strings.HasPrefix(strings.TrimSpace(lines[k]), "<!--")) {
			k--
		}
		var para []string
		for ; k >= 0 && strings.TrimSpace(lines[k]) != ""; k-- {
			para = append([]string{lines[k]}, para...)
		}
		b.Before = strings.Join(para, "\n")
		var code []string
		closed := false
		for i++; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) == fence {
				closed = true
				break
			}
			c := lines[i]
			if len(c)-len(strings.TrimLeft(c, " ")) >= indent {
				c = c[indent:]
			}
			code = append(code, c)
		}
		if !closed {
			return nil, fmt.Errorf("readme: %s:%d: a ``` block is not closed", path, b.Line)
		}
		if len(code) > 0 {
			b.Code = strings.Join(code, "\n") + "\n"
		}
		out = append(out, b)
	}
	return out, nil
}

// ShellBlock returns the code of the first shell block (```sh, ```bash,
// ```console) after the first line of the Markdown file at path that
// contains marker. It fails, naming the file and the marker, when either
// is missing.
func ShellBlock(path, marker string) (string, error) {
	b, err := shellBlock(path, marker)
	if err != nil {
		return "", err
	}
	return b.Code, nil
}

func shellBlock(path, marker string) (Block, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return Block{}, fmt.Errorf("readme: %w", err)
	}
	at := -1
	for i, l := range strings.Split(string(doc), "\n") {
		if strings.Contains(l, marker) {
			at = i + 1
			break
		}
	}
	if at < 0 {
		return Block{}, fmt.Errorf("readme: %s has no %q", path, marker)
	}
	blocks, err := Blocks(path)
	if err != nil {
		return Block{}, err
	}
	for _, b := range blocks {
		if b.Line > at && IsShell(b.Lang) {
			return b, nil
		}
	}
	return Block{}, fmt.Errorf("readme: %s has no ```sh block after %q", path, marker)
}

// Section returns the blocks of the section of the Markdown file at path
// whose heading is title (any level), up to the next heading, in order. A
// missing section is an error naming the file and the title.
func Section(path, title string) ([]Block, error) {
	blocks, err := Blocks(path)
	if err != nil {
		return nil, err
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("readme: %w", err)
	}
	found := false
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, "#") && strings.TrimSpace(strings.TrimLeft(l, "#")) == title {
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("readme: %s has no section %q", path, title)
	}
	var out []Block
	for _, b := range blocks {
		if b.Heading == title {
			out = append(out, b)
		}
	}
	return out, nil
}
