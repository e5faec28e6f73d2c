package readme_test

import (
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/readme"
)

// pending: files a link may name before they exist, because another branch
// writes them. Once one exists its links are checked like any other;
// then its entry can go.
var pending = map[string]string{}

// TestEveryShellBlockRuns: every ```sh, ```bash and ```console block of
// README.md and docs/*.md is read by the test its marker names (see
// readme.Unrun for the rules), so that every command the documentation
// shows is executed somewhere: by make test, or by the CI-only targets
// (make test-walkthrough, make test-litestream).
func TestEveryShellBlockRuns(t *testing.T) {
	docs, err := readme.Docs("../..")
	if err != nil {
		t.Fatal(err)
	}
	problems, err := readme.Unrun("../..", docs)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("%d shell block(s) of the documentation are not run by a test, or a test reads a block that is not there:\n%s",
			len(problems), strings.Join(problems, "\n"))
	}
}

// TestDocLinks: every relative link of README.md and docs/*.md names a
// file of the repository, and its #anchor a heading of that file.
func TestDocLinks(t *testing.T) {
	docs, err := readme.Docs("../..")
	if err != nil {
		t.Fatal(err)
	}
	problems, err := readme.BrokenLinks("../..", docs, pending)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("%d broken link(s):\n%s", len(problems), strings.Join(problems, "\n"))
	}
}
