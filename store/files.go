package store

import "github.com/agentops/orgdb/internal/privfile"

// warnFileModes logs, once per Open, a database file or directory that
// group or others can access, with the chmod that fixes it. Open goes on:
// the operator decides.
func (s *Store) warnFileModes(path string) {
	if f := privfile.Check(path); len(f) > 0 {
		s.log.Warn("orgdb: database files are not private: "+privfile.Describe(f), "fix", privfile.Fix(f))
	}
}
