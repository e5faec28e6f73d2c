package backup

import (
	"errors"
	"fmt"
	"os"

	"github.com/agentops/orgdb/internal/privfile"
)

// Files orgdb writes beside a database (backups, restores) hold the whole
// organization: they are readable by their owner only, whatever the umask
// (internal/privfile).

// createPrivate creates a new empty file in dir named by pattern (as
// os.CreateTemp), with mode 0600 whatever the umask, and returns its path;
// dir and any missing parent are created with mode 0700.
func createPrivate(dir, pattern string) (string, error) {
	if err := privfile.MkdirAll(dir); err != nil {
		return "", err
	}
	f, err := privfile.CreateTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("create a temporary file in %s: %w", dir, err)
	}
	if err := f.Close(); err != nil {
		return "", errors.Join(fmt.Errorf("create %s: %w", f.Name(), err), os.Remove(f.Name()))
	}
	return f.Name(), nil
}

// syncFile fsyncs the file at path and returns its size.
func syncFile(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("fsync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("fsync %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	return fi.Size(), nil
}

// syncDir fsyncs a directory, so that a rename or link in it survives a
// crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
