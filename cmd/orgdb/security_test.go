package main

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/seal"
)

// Under umask 022 (set in a child process: the umask is process-wide),
// `orgdb migrate` then `orgdb users add` leave a 0700 directory holding
// 0600 files only, the database directory created by the CLI.
func TestCLIFilesPrivateUnderUmask022(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	dir := filepath.Join(base, "data")
	db := filepath.Join(dir, "orgdb.db")
	umask022 := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("sh", append([]string{"-c", `umask 022 && exec "$0" "$@"`}, args...)...)
		cmd.Env = append(os.Environ(), cliMainEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	umask022("touch", filepath.Join(base, "control")) // what the umask gives anything else
	out := umask022(exe, "migrate", "--db", db)
	out += umask022(exe, "users", "add", "ada@acme.test", "--db", db)
	if strings.Contains(out, "warning") {
		t.Errorf("warned about files it made itself:\n%s", out)
	}
	want := map[string]os.FileMode{dir: 0o700, db: 0o600, filepath.Join(base, "control"): 0o644}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		want[filepath.Join(dir, e.Name())] = 0o600
	}
	for p, m := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != m {
			t.Errorf("%s: mode %04o, want %04o", p, fi.Mode().Perm(), m)
		}
	}
}

// A database others can read gets one warning line on stderr from a
// command, and status says what to run.
func TestCLIWarnsAboutOpenModes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "org.db")
	env := map[string]string{"ORGDB_DB": path}
	if code, _, errs := cli(t, env, "migrate"); code != 0 || errs != "" {
		t.Fatalf("migrate: %d %q", code, errs)
	}
	if code, _, errs := cli(t, env, "users", "add", "ada@acme.test"); code != 0 || errs != "" {
		t.Fatalf("users add: %d %q", code, errs)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	fix := "chmod 600 " + path
	code, out, errs := cli(t, env, "users", "list")
	if code != 0 || !strings.Contains(out, "ada@acme.test") || strings.Count(errs, "\n") != 1 ||
		!strings.HasPrefix(errs, "orgdb: warning: ") || !strings.Contains(errs, fix) {
		t.Errorf("users list on a 0644 file: exit %d, stdout %q, stderr %q; want one warning naming %q", code, out, errs, fix)
	}
	code, _, errs = cli(t, env, "migrate")
	if code != 0 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, fix) {
		t.Errorf("migrate on a 0644 file: exit %d, stderr %q", code, errs)
	}
	code, out, _ = cli(t, env, "status")
	if code != 0 || !strings.Contains(out, "files: NOT PRIVATE: ") || !strings.Contains(out, fix) {
		t.Errorf("status: %d %q", code, out)
	}
	// The command status names fixes every file.
	_, named, _ := strings.Cut(out, "files: NOT PRIVATE: ")
	named, _, _ = strings.Cut(named, "\n")
	_, named, _ = strings.Cut(named, ": run ")
	if out, err := exec.Command("sh", "-c", named).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v %s", named, err, out)
	}
	code, out, errs = cli(t, env, "status")
	if code != 0 || errs != "" || !strings.Contains(out, "files: private") {
		t.Errorf("status after the fix: %d %q %q", code, out, errs)
	}
}

// A database main sealed with a passphrase: status says FIXED SALT, keys
// rotate with the same passphrase moves the keys to the database's salt,
// and status then says so.
func TestCLIFixedSaltStatusAndRotate(t *testing.T) {
	t.Parallel()
	const pass = "passphrase:correct horse battery staple"
	path := dbtest.Path(t)
	raw := dbtest.Raw(t, path)
	ctx := context.Background()
	if _, err := schema.Migrate(ctx, raw, schema.UpTo(schema.FS(), 10)); err != nil {
		t.Fatal(err)
	}
	b, err := pbkdf2.Key(sha256.New, strings.TrimPrefix(pass, seal.PassphrasePrefix), []byte("orgdb sealing key v1"), 600_000, 32)
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := seal.NewKey(b)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := fixed.Seal(orgdb.ProviderOpenAI, seal.NewSecret("sk-legacy"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO users (id, email, role) VALUES ('u1', 'ada@acme.test', 'admin')`,
		`INSERT INTO org_api_keys (id, provider, encrypted_key, set_by) VALUES ('k1', 'openai', '` + sealed + `', 'u1')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := cli(t, map[string]string{"ORGDB_DB": path}, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	env := map[string]string{"ORGDB_DB": path, seal.EnvVar: pass}

	code, out, errs := cli(t, env, "status")
	if code != 0 || errs != "" || !strings.Contains(out, "sealing: FIXED SALT") || !strings.Contains(out, fixed.ID()) || !strings.Contains(out, "orgdb keys rotate") {
		t.Fatalf("status of main's database: %d %q %q", code, out, errs)
	}
	// With the raw key there instead, there is no salt to worry about.
	rawEnv := map[string]string{"ORGDB_DB": path, seal.EnvVar: seal.GenerateKey()}
	if _, out, _ := cli(t, rawEnv, "status"); !strings.Contains(out, "FIXED SALT") {
		t.Errorf("status with another raw key: %q", out)
	}

	code, out, errs = cli(t, env, "keys", "rotate")
	if code != 0 || !strings.Contains(out, "re-sealed 1 key(s) from key "+fixed.ID()+" (the fixed salt)") || !strings.Contains(out, "keep "+seal.EnvVar) {
		t.Fatalf("keys rotate: %d %q %q", code, out, errs)
	}
	code, out, errs = cli(t, env, "status")
	if code != 0 || errs != "" || strings.Contains(out, "FIXED SALT") || !strings.Contains(out, "this database's own salt") {
		t.Errorf("status after the rotation: %d %q %q", code, out, errs)
	}
	// The key opens with the passphrase, under the new key id.
	code, out, errs = cli(t, env, "keys", "list")
	if code != 0 || strings.Contains(out, fixed.ID()) || !strings.Contains(out, "openai     yes") {
		t.Errorf("keys list: %d %q %q", code, out, errs)
	}
	code, out, errs = cliIn(t, env, "sk-new", "keys", "set", "google", "--by", "ada@acme.test")
	if code != 0 || errs != "" || strings.Contains(out, fixed.ID()) {
		t.Errorf("keys set after the rotation: %d %q %q", code, out, errs)
	}
	// Run again: nothing to rotate, said as a refusal that changes nothing.
	code, _, errs = cli(t, env, "keys", "rotate")
	if code != 1 || !strings.Contains(errs, "nothing to rotate") || strings.Contains(errs, "horse") {
		t.Errorf("keys rotate again: %d %q", code, errs)
	}
}
