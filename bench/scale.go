package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/store"
)

// seeded is a database with n users (two of them admins) and n pending
// invites, for the scaling and load runs.
type seeded struct {
	st     *store.Store
	n      int
	adminB string
	accept int // next invite AcceptInvite takes
}

// seed creates a database with n users and n invites in one transaction.
func seed(dir string, n int) (*seeded, error) {
	path := filepath.Join(dir, fmt.Sprintf("scale-%d.db", n))
	os.Remove(path)
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	w := st.DB() // the writer's one connection
	if _, err := w.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
		return nil, err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	users, err := tx.PrepareContext(ctx, `INSERT INTO users (id, email, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, err
	}
	invites, err := tx.PrepareContext(ctx, `INSERT INTO invites (id, email, role, invited_by, expires_at, created_at) VALUES (?, ?, 'member', 'u0000000', ?, ?)`)
	if err != nil {
		return nil, err
	}
	base := time.Now().Add(-time.Duration(n) * time.Second)
	exp := orgdb.NewTime(time.Now().Add(30 * 24 * time.Hour))
	for i := range n {
		at := orgdb.NewTime(base.Add(time.Duration(i) * time.Second))
		role := orgdb.RoleMember
		if i < 2 {
			role = orgdb.RoleAdmin
		}
		if _, err := users.ExecContext(ctx, fmt.Sprintf("u%07d", i), fmt.Sprintf("user%07d@acme.test", i), role, at, at); err != nil {
			return nil, err
		}
		if _, err := invites.ExecContext(ctx, fmt.Sprintf("i%07d", i), fmt.Sprintf("inv%07d@acme.test", i), exp, at); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if _, err := w.ExecContext(ctx, `ANALYZE`); err != nil {
		return nil, err
	}
	if err := warm(st); err != nil {
		return nil, err
	}
	return &seeded{st: st, n: n, adminB: "u0000001"}, nil
}

// warm reads every page of the invites and users tables and indexes on
// each reader connection, as a long-running service's connections would
// have, so that the rounds measure lookups and not first page faults of
// each connection's memory map.
func warm(st *store.Store) error {
	r := st.ReadDB()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range r.Stats().MaxOpenConnections {
		c, err := r.Conn(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		for _, q := range []string{
			`SELECT sum(length(email) + length(invited_by)) FROM invites`,
			`SELECT count(*) FROM invites WHERE email > ''`,
			`SELECT count(*) FROM invites WHERE created_at > ''`,
			`SELECT sum(length(email)) FROM users`,
			`SELECT count(*) FROM users WHERE role > ''`,
		} {
			var n sql.NullInt64
			if err := c.QueryRowContext(ctx, q).Scan(&n); err != nil {
				return fmt.Errorf("warm: %w", err)
			}
		}
	}
	return nil
}

// scaleOps are the operations whose cost must not grow with the tables.
var scaleOps = []struct {
	name string
	run  func(s *seeded, i int) error
}{
	{"GetInviteByEmail", func(s *seeded, i int) error {
		_, err := s.st.ValidInvite(ctx, fmt.Sprintf("inv%07d@acme.test", (i*7919)%s.n))
		return err
	}},
	{"AcceptInvite", func(s *seeded, _ int) error {
		// Every call accepts a different pending invite, spread over the table.
		id := fmt.Sprintf("i%07d", (s.accept*7919)%s.n)
		s.accept++
		_, err := s.st.AcceptInvite(ctx, id)
		return err
	}},
	{"ListInvites first page", func(s *seeded, _ int) error {
		_, err := s.st.ListInvites(ctx, store.ListInvitesOptions{})
		return err
	}},
	{"CountAdmins", func(s *seeded, _ int) error {
		_, err := s.st.CountAdmins(ctx)
		return err
	}},
	{"UpdateUserRole (last-admin guard)", func(s *seeded, i int) error {
		_, err := s.st.UpdateUserRole(ctx, s.adminB, roleAt(i))
		return err
	}},
}

// scaleRounds is how many interleaved rounds each scale op runs.
const scaleRounds = 5

// acceptCalls bounds AcceptInvite per round: the small database has only
// its n invites to accept.
const acceptCalls = 150

// measure returns ns per call of one scale op on one database.
func measure(s *seeded, o int) (float64, error) {
	if scaleOps[o].name == "AcceptInvite" {
		start := time.Now()
		for i := range acceptCalls {
			if err := scaleOps[o].run(s, i); err != nil {
				return 0, err
			}
		}
		return float64(time.Since(start).Nanoseconds()) / acceptCalls, nil
	}
	var runErr error
	b := testing.Benchmark(func(b *testing.B) {
		for i := range b.N {
			if err := scaleOps[o].run(s, i); err != nil {
				runErr = err
				b.FailNow()
			}
		}
	})
	return float64(b.NsPerOp()), runErr
}

// runScale seeds 1e3 and n users and invites and compares each op's cost.
func runScale(dir string, n int) (string, error) {
	fmt.Fprintf(os.Stderr, "seeding %d users and invites…\n", n)
	small, err := seed(dir, 1000)
	if err != nil {
		return "", err
	}
	defer small.st.Close()
	large, err := seed(dir, n)
	if err != nil {
		return "", err
	}
	defer large.st.Close()
	label := fmt.Sprintf("%.0e/1e3", float64(n))
	label = strings.ReplaceAll(label, "e+0", "e")
	var md strings.Builder
	fmt.Fprintf(&md, "## Scaling (%d vs 1,000 users and invites; median of %d interleaved rounds)\n\n"+
		"| op | µs at 1e3 | µs at %d | %s | target ≤ 1.5 |\n|---|---|---|---|---|\n", n, scaleRounds, n, label)
	for o := range scaleOps {
		var ratios, smallNs, largeNs stats
		for range scaleRounds {
			a, err := measure(small, o)
			if err != nil {
				return "", fmt.Errorf("%s at 1e3: %w", scaleOps[o].name, err)
			}
			b, err := measure(large, o)
			if err != nil {
				return "", fmt.Errorf("%s at %d: %w", scaleOps[o].name, n, err)
			}
			smallNs, largeNs, ratios = append(smallNs, a), append(largeNs, b), append(ratios, b/a)
		}
		fmt.Printf("SCALE %s %s=%.2f\n", strings.ReplaceAll(scaleOps[o].name, " ", "_"), label, ratios.median())
		verdict := "met"
		if ratios.median() > 1.5 {
			verdict = "MISSED"
		}
		fmt.Fprintf(&md, "| %s | %.1f | %.1f | %.2f [%s] | %s |\n", scaleOps[o].name, smallNs.median()/1000, largeNs.median()/1000,
			ratios.median(), ratios.spread(), verdict)
	}
	md.WriteString("\n")
	return md.String(), nil
}
