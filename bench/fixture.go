package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

var ctx = context.Background()

// fixture is one migrated database file and the four ways to reach it.
type fixture struct {
	path  string
	st    *store.Store // orgdb as shipped
	pool  *sql.DB      // hand-written database/sql and the floor, same DSN
	stmts map[string]*sql.Stmt
	gdb   *gorm.DB // GORM, default settings
	key   seal.Key

	adminA, adminB string   // adminB's role is toggled by UpdateUserRole
	lookupEmail    string   // a pending invite for GetInviteByEmail
	emails         []string // CreateInvite cycles through these
	ids            []string // the invites AcceptInvite accepts, made by its setup
	seq            int      // for unique ids and emails across runs
}

const listed = 100 // invites ListInvites returns

// newFixture migrates a database in dir and seeds two admins and the
// invites the operations read.
func newFixture(dir string) (*fixture, error) {
	k, err := seal.ParseKey(seal.GenerateKey())
	if err != nil {
		return nil, err
	}
	f := &fixture{path: filepath.Join(dir, "bench.db"), key: k, stmts: map[string]*sql.Stmt{}}
	if f.st, err = store.Open(ctx, f.path, store.WithSealingKey(k)); err != nil {
		return nil, err
	}
	a, err := f.st.CreateUser(ctx, store.NewUser{Email: "ada@acme.test"})
	if err != nil {
		return nil, err
	}
	b, err := f.st.CreateUser(ctx, store.NewUser{Email: "bob@acme.test"})
	if err != nil {
		return nil, err
	}
	if _, err := f.st.UpdateUserRole(ctx, store.ByUser(a.ID), b.ID, orgdb.RoleAdmin); err != nil {
		return nil, err
	}
	f.adminA, f.adminB = a.ID, b.ID
	for i := range listed {
		email := fmt.Sprintf("listed%03d@acme.test", i)
		if _, err := f.st.CreateInvite(ctx, store.ByUser(a.ID), store.NewInvite{Email: email}); err != nil {
			return nil, err
		}
		if i == listed/2 {
			f.lookupEmail = email
		}
	}
	for i := range 1000 {
		f.emails = append(f.emails, fmt.Sprintf("new%04d@acme.test", i))
	}
	if f.pool, err = sql.Open("sqlite3", dbfile.DSN(f.path)); err != nil {
		return nil, err
	}
	for name, q := range floorSQL {
		if f.stmts[name], err = f.pool.PrepareContext(ctx, q); err != nil {
			return nil, fmt.Errorf("prepare %s: %w", name, err)
		}
	}
	if f.gdb, err = gorm.Open(sqlite.Open(dbfile.DSN(f.path)), &gorm.Config{}); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fixture) close() {
	for _, s := range f.stmts {
		s.Close()
	}
	if sqlDB, err := f.gdb.DB(); err == nil {
		sqlDB.Close()
	}
	f.pool.Close()
	f.st.Close()
}

// pendingInvites inserts n invites that AcceptInvite can accept and
// returns their ids; it runs before a benchmark's timer starts.
func (f *fixture) pendingInvites(n int) ([]string, error) {
	ids := make([]string, n)
	tx, err := f.st.DB().BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO invites (id, email, role, invited_by, expires_at, created_at) VALUES (?, ?, 'member', ?, ?, ?)`)
	if err != nil {
		return nil, err
	}
	now := orgdb.NewTime(time.Now())
	exp := orgdb.NewTime(time.Now().Add(24 * time.Hour))
	for i := range ids {
		f.seq++
		ids[i] = fmt.Sprintf("acc%09d", f.seq)
		if _, err := ins.ExecContext(ctx, ids[i], fmt.Sprintf("acc%09d@acme.test", f.seq), f.adminA, exp, now); err != nil {
			return nil, err
		}
	}
	return ids, tx.Commit()
}

// scanInvite and scanUser fill the generated models, so every variant but
// GORM pays the same conversions.
func scanInvite(r interface{ Scan(...any) error }) (db.Invite, error) {
	var i db.Invite
	err := r.Scan(&i.ID, &i.Email, &i.Role, &i.InvitedBy, &i.AcceptedAt, &i.ExpiresAt, &i.CreatedAt)
	return i, err
}

func scanUser(r interface{ Scan(...any) error }) (db.User, error) {
	var u db.User
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.AvatarURL, &u.GithubID, &u.GithubUsername, &u.CreatedAt, &u.UpdatedAt, &u.Role)
	return u, err
}

func scanSettings(r interface{ Scan(...any) error }) (db.OrgSettings, error) {
	var s db.OrgSettings
	err := r.Scan(&s.ID, &s.Name, &s.AllowedEmailDomain, &s.AllowedEmails, &s.DomainGatingEnabled, &s.EmailAllowlistEnabled, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}
