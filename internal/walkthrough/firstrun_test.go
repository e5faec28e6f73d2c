package walkthrough

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tools/quiet-downloads.sh (make check) sends the go command's download
// lines to a log, says so in one line, passes every other line and the
// command's exit status through.
func TestQuietDownloads(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "downloads.log")
	cmd := exec.Command("sh", "../../tools/quiet-downloads.sh", log, "sh", "-c",
		`echo result; i=0; while [ $i -lt 200 ]; do echo "go: downloading example.com/m$i v1.0.0" >&2; i=$((i+1)); done; echo "a real error" >&2; exit 3`)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("exit = %v, want the command's status 3\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || !strings.Contains(string(out), "result") || !strings.Contains(string(out), "a real error") ||
		!strings.Contains(string(out), "go: downloaded 200 modules on this first run (listed in "+log+")") {
		t.Errorf("output:\n%s\nwant the result, the error and one line about 200 downloads", out)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "go: downloading "); n != 200 {
		t.Errorf("the log holds %d download lines, want 200", n)
	}
}

// tools/announce.sh (make generate, make test) says what a slow step does
// once it is slow, says nothing for a quick one, and does not hold the
// output open after the command ends (a reader of a pipe would wait).
func TestAnnounce(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("sh", "../../tools/announce.sh", "1", "compiling the thing", "sleep", "2").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "compiling the thing" {
		t.Errorf("slow: %v, %q; want the line once", err, out)
	}
	start := time.Now()
	out, err = exec.Command("sh", "../../tools/announce.sh", "5", "compiling the thing", "sh", "-c", "exit 4").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 || len(out) != 0 {
		t.Errorf("quick: %v, %q; want exit 4 and nothing said", err, out)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("a quick command's output stayed open %v: the timer holds the pipe", d)
	}
}

// tools/announce.sh keeps a long first run from going silent: after every
// ANNOUNCE_EVERY seconds without output it says the command is still
// running, labelled with MESSAGE up to its colon; MESSAGE itself only
// describes a command that has printed nothing yet but the go command's
// download lines; output (an unfinished
// last line too) passes through and the command's status comes back.
func TestAnnounceHeartbeat(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("sh", "../../tools/announce.sh", "60", "x: compiling the thing", "sh", "-c", "echo first; sleep 3; echo last")
	cmd.Env = append(os.Environ(), "ANNOUNCE_EVERY=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	beats := 0
	for _, l := range lines[1 : len(lines)-1] {
		if strings.HasPrefix(l, "x: still running (0m0") && strings.HasSuffix(l, "s so far)") {
			beats++
		} else {
			t.Errorf("unexpected line %q", l)
		}
	}
	if lines[0] != "first" || lines[len(lines)-1] != "last" || beats < 2 {
		t.Errorf("output:\n%s\nwant first, at least two \"x: still running\" lines, last", out)
	}

	out, err = exec.Command("sh", "../../tools/announce.sh", "1", "x: compiling the thing", "sh", "-c", "echo out; sleep 2").CombinedOutput()
	if err != nil || string(out) != "out\n" {
		t.Errorf("a command that printed: %v, %q; want only its output, no MESSAGE", err, out)
	}

	out, err = exec.Command("sh", "../../tools/announce.sh", "1", "x: compiling the thing", "sh", "-c", "echo 'go: downloading example.com/m v1.0.0'; sleep 2").CombinedOutput()
	if err != nil || string(out) != "go: downloading example.com/m v1.0.0\nx: compiling the thing\n" {
		t.Errorf("a go command that only downloaded: %v, %q; want the download line, then MESSAGE", err, out)
	}

	out, err = exec.Command("sh", "../../tools/announce.sh", "5", "x: compiling the thing", "sh", "-c", "echo err >&2; printf tail; exit 5").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 5 || string(out) != "err\ntail\n" {
		t.Errorf("status and unfinished line: %v, %q; want exit 5 and \"err\\ntail\\n\"", err, out)
	}
}
