package main

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The SQL the hand-written and floor variants run: the statements of
// gen/db, as a developer would write them by hand.
var floorSQL = map[string]string{
	"GetOrgSettings": `SELECT id, name, allowed_email_domain, allowed_emails, domain_gating_enabled, email_allowlist_enabled, created_at, updated_at FROM org_settings WHERE id = 'default'`,
	"GetInviteByEmail": `SELECT id, email, role, invited_by, accepted_at, expires_at, created_at FROM invites
WHERE email = lower(trim(?1)) AND accepted_at IS NULL AND expires_at > ?2`,
	"ListInvites": `SELECT id, email, role, invited_by, accepted_at, expires_at, created_at,
  CAST(CASE WHEN accepted_at IS NOT NULL THEN 'accepted' WHEN expires_at <= ?1 THEN 'expired' ELSE 'pending' END AS invite_status_text) AS status
FROM invites WHERE created_at <= ?2 AND NOT (created_at = ?2 AND id >= ?3) ORDER BY created_at DESC, id DESC LIMIT ?4`,
	"GetUser":        `SELECT id, email, name, avatar_url, github_id, github_username, created_at, updated_at, role FROM users WHERE id = ?`,
	"GetUserByEmail": `SELECT id, email, name, avatar_url, github_id, github_username, created_at, updated_at, role FROM users WHERE lower(email) = lower(trim(?1))`,
	"UpsertInvite": `INSERT INTO invites (id, email, role, invited_by, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (email) DO UPDATE SET id = excluded.id, role = excluded.role, invited_by = excluded.invited_by,
  expires_at = excluded.expires_at, created_at = excluded.created_at, accepted_at = NULL
RETURNING id, email, role, invited_by, accepted_at, expires_at, created_at`,
	"AcceptInvite": `UPDATE invites SET accepted_at = ?1 WHERE id = ?2 AND accepted_at IS NULL AND expires_at > ?3
RETURNING id, email, role, invited_by, accepted_at, expires_at, created_at`,
	"UpsertOrgAPIKey": `INSERT INTO org_api_keys (id, provider, encrypted_key, set_by, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
ON CONFLICT (provider) DO UPDATE SET encrypted_key = excluded.encrypted_key, set_by = excluded.set_by, updated_at = excluded.updated_at
RETURNING id, provider, encrypted_key, set_by, created_at, updated_at`,
	"UpdateUserRole": `UPDATE users SET role = ?1, updated_at = ?2 WHERE users.id = ?3
  AND (users.role = ?1 OR users.role <> 'admin' OR (SELECT COUNT(*) FROM users AS a WHERE a.role = 'admin') > 1)`,
}

// The variants, in the order of their columns.
const (
	vOrgdb = iota
	vHandwritten
	vFloor
	vGorm
	nVariants
)

var variantNames = [nVariants]string{"orgdb", "handwritten", "floor", "gorm"}

// op is one operation in its four implementations. Each returns a value
// that TestVariantsAgree compares across variants.
type op struct {
	name  string
	point bool // a point read or write: the ≤1.15 floor target applies
	read  bool // a read: the handwritten and GORM targets apply too
	run   [nVariants]func(f *fixture, i int) (string, error)
	// setup runs before the timer for n iterations (AcceptInvite needs n
	// fresh invites); its result is passed to run as f.ids.
	setup func(f *fixture, n int) error
}

// stmt runs a floor statement, inside tx if there is one: tx.StmtContext
// reuses the statement already prepared on the connection.
func (f *fixture) stmt(tx *sql.Tx, name string) *sql.Stmt {
	if tx != nil {
		return tx.StmtContext(ctx, f.stmts[name])
	}
	return f.stmts[name]
}

// now is the instant every variant checks expiry against.
func now() orgdb.Time { return orgdb.NewTime(time.Now()) }

var errRefused = errors.New("refused")

// benchOperator is the actor of the writes only the operator may do
// (AcceptInvite outside a sign-up) and of the load's raw transactions.
var benchOperator = store.Operator("bench")

// ops lists the benchmarked operations.
var ops = []op{
	{
		name: "GetOrgSettings", point: true, read: true,
		run: [nVariants]func(*fixture, int) (string, error){
			func(f *fixture, _ int) (string, error) {
				s, err := f.st.GetOrgSettings(ctx)
				return s.Name, err
			},
			func(f *fixture, _ int) (string, error) {
				s, err := scanSettings(f.pool.QueryRowContext(ctx, floorSQL["GetOrgSettings"]))
				return s.Name, err
			},
			func(f *fixture, _ int) (string, error) {
				s, err := scanSettings(f.stmts["GetOrgSettings"].QueryRowContext(ctx))
				return s.Name, err
			},
			func(f *fixture, _ int) (string, error) {
				var s gOrgSettings
				err := f.gdb.WithContext(ctx).First(&s, "id = ?", "default").Error
				return s.Name, err
			},
		},
	},
	{
		name: "GetInviteByEmail", point: true, read: true,
		run: [nVariants]func(*fixture, int) (string, error){
			func(f *fixture, _ int) (string, error) {
				inv, err := f.st.ValidInvite(ctx, f.lookupEmail)
				return inv.Email, err
			},
			func(f *fixture, _ int) (string, error) {
				inv, err := scanInvite(f.pool.QueryRowContext(ctx, floorSQL["GetInviteByEmail"], f.lookupEmail, now()))
				return inv.Email, err
			},
			func(f *fixture, _ int) (string, error) {
				inv, err := scanInvite(f.stmts["GetInviteByEmail"].QueryRowContext(ctx, f.lookupEmail, now()))
				return inv.Email, err
			},
			func(f *fixture, _ int) (string, error) {
				var inv gInvite
				err := f.gdb.WithContext(ctx).Where("email = ? AND accepted_at IS NULL AND expires_at > ?",
					strings.ToLower(strings.TrimSpace(f.lookupEmail)), now()).First(&inv).Error
				return inv.Email, err
			},
		},
	},
	{
		name: "ListInvites", read: true,
		run: [nVariants]func(*fixture, int) (string, error){
			func(f *fixture, _ int) (string, error) {
				invs, err := f.st.ListInvites(ctx, store.ListInvitesOptions{Limit: listed})
				return listSummary(len(invs), err, func(i int) (string, orgdb.InviteStatus) { return invs[i].Email, invs[i].Status })
			},
			func(f *fixture, _ int) (string, error) {
				return listHand(f.pool.QueryContext(ctx, floorSQL["ListInvites"], now(), endOfTime, "", listed))
			},
			func(f *fixture, _ int) (string, error) {
				return listHand(f.stmts["ListInvites"].QueryContext(ctx, now(), endOfTime, "", listed))
			},
			func(f *fixture, _ int) (string, error) {
				var invs []gInvite
				if err := f.gdb.WithContext(ctx).Order("created_at DESC, id DESC").Limit(listed).Find(&invs).Error; err != nil {
					return "", err
				}
				t := now()
				return listSummary(len(invs), nil, func(i int) (string, orgdb.InviteStatus) { return invs[i].Email, invs[i].status(t) })
			},
		},
	},
	{
		name: "CreateInvite", point: true,
		run: [nVariants]func(*fixture, int) (string, error){
			func(f *fixture, i int) (string, error) {
				inv, err := f.st.CreateInvite(ctx, store.ByUser(f.adminA), store.NewInvite{Email: f.emails[i%len(f.emails)]})
				return inv.Email, err
			},
			func(f *fixture, i int) (string, error) { return f.createInviteSQL(i, false) },
			func(f *fixture, i int) (string, error) { return f.createInviteSQL(i, true) },
			func(f *fixture, i int) (string, error) {
				email, t := f.emails[i%len(f.emails)], now()
				inv := gInvite{ID: orgdb.NewID(), Email: email, Role: orgdb.RoleMember, InvitedBy: f.adminA,
					ExpiresAt: orgdb.NewTime(t.Add(store.DefaultInviteTTL)), CreatedAt: t}
				err := f.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
					var inviter gUser
					if err := tx.First(&inviter, "id = ?", f.adminA).Error; err != nil {
						return err
					}
					if inviter.Role != orgdb.RoleAdmin {
						return errRefused
					}
					var n int64
					if err := tx.Model(&gUser{}).Where("lower(email) = ?", email).Count(&n).Error; err != nil || n > 0 {
						return errors.Join(err, errRefused)
					}
					return tx.Clauses(clause.OnConflict{
						Columns:   []clause.Column{{Name: "email"}},
						DoUpdates: clause.AssignmentColumns([]string{"id", "role", "invited_by", "expires_at", "created_at", "accepted_at"}),
					}).Create(&inv).Error
				})
				return inv.Email, err
			},
		},
	},
	{
		name: "AcceptInvite", point: true,
		setup: func(f *fixture, n int) (err error) {
			f.ids, err = f.pendingInvites(n)
			return err
		},
		run: [nVariants]func(*fixture, int) (string, error){
			func(f *fixture, i int) (string, error) {
				inv, err := f.st.AcceptInvite(ctx, benchOperator, f.ids[i])
				return acceptedSummary(inv.AcceptedAt, err)
			},
			func(f *fixture, i int) (string, error) {
				t := now()
				inv, err := scanInvite(f.pool.QueryRowContext(ctx, floorSQL["AcceptInvite"], &t, f.ids[i], t))
				return acceptedSummary(inv.AcceptedAt, err)
			},
			func(f *fixture, i int) (string, error) {
				t := now()
				inv, err := scanInvite(f.stmts["AcceptInvite"].QueryRowContext(ctx, &t, f.ids[i], t))
				return acceptedSummary(inv.AcceptedAt, err)
			},
			func(f *fixture, i int) (string, error) {
				t := now()
				res := f.gdb.WithContext(ctx).Model(&gInvite{}).Where("id = ? AND accepted_at IS NULL AND expires_at > ?", f.ids[i], t).
					Update("accepted_at", t)
				if res.Error == nil && res.RowsAffected != 1 {
					return "", errRefused
				}
				return acceptedSummary(&t, res.Error)
			},
		},
	},
	{
		name: "SetOrgAPIKey", point: true,
		run: [nVariants]func(*fixture, int) (string, error){
			func(f *fixture, i int) (string, error) {
				v, err := f.st.SetOrgAPIKey(ctx, store.ByUser(f.adminA), providerAt(i), seal.NewSecret("sk-bench-key"))
				return string(v.Provider), err
			},
			func(f *fixture, i int) (string, error) { return f.setKeySQL(i, false) },
			func(f *fixture, i int) (string, error) { return f.setKeySQL(i, true) },
			func(f *fixture, i int) (string, error) {
				p := providerAt(i)
				sealed, err := f.key.Seal(p, seal.NewSecret("sk-bench-key"))
				if err != nil {
					return "", err
				}
				t := now()
				key := gOrgAPIKey{ID: orgdb.NewID(), Provider: p, EncryptedKey: sealed, SetBy: f.adminA, CreatedAt: t, UpdatedAt: t}
				err = f.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
					var u gUser
					if err := tx.First(&u, "id = ?", f.adminA).Error; err != nil {
						return err
					}
					if u.Role != orgdb.RoleAdmin {
						return errRefused
					}
					return tx.Clauses(clause.OnConflict{
						Columns:   []clause.Column{{Name: "provider"}},
						DoUpdates: clause.AssignmentColumns([]string{"encrypted_key", "set_by", "updated_at"}),
					}).Create(&key).Error
				})
				return string(p), err
			},
		},
	},
	{
		name: "UpdateUserRole", point: true,
		run: [nVariants]func(*fixture, int) (string, error){
			func(f *fixture, i int) (string, error) {
				u, err := f.st.UpdateUserRole(ctx, store.ByUser(f.adminA), f.adminB, roleAt(i))
				return string(u.Role), err
			},
			func(f *fixture, i int) (string, error) { return f.updateRoleSQL(i, false) },
			func(f *fixture, i int) (string, error) { return f.updateRoleSQL(i, true) },
			func(f *fixture, i int) (string, error) {
				role := roleAt(i)
				var u gUser
				err := f.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
					var actor gUser
					if err := tx.First(&actor, "id = ?", f.adminA).Error; err != nil {
						return err
					}
					if actor.Role != orgdb.RoleAdmin {
						return errRefused
					}
					res := tx.Model(&gUser{}).
						Where("id = ? AND (role = ? OR role <> 'admin' OR (SELECT COUNT(*) FROM users AS a WHERE a.role = 'admin') > 1)", f.adminB, role).
						Updates(map[string]any{"role": role, "updated_at": now()})
					if res.Error != nil {
						return res.Error
					}
					if res.RowsAffected == 0 {
						return errRefused
					}
					return tx.First(&u, "id = ?", f.adminB).Error
				})
				return string(u.Role), err
			},
		},
	},
}

// providerAt and roleAt vary the written values from one iteration to the
// next; adminA stays admin, so adminB's demotion always passes the guard.
func providerAt(i int) orgdb.Provider { return orgdb.Providers()[i%3] }

func roleAt(i int) orgdb.UserRole {
	if i%2 == 0 {
		return orgdb.RoleMember
	}
	return orgdb.RoleAdmin
}

// endOfTime is the first-page cursor of ListInvites (as the store passes).
var endOfTime = orgdb.NewTime(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC))

func listHand(rows *sql.Rows, err error) (string, error) {
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var out []db.ListInvitesRow
	for rows.Next() {
		var i db.ListInvitesRow
		if err := rows.Scan(&i.ID, &i.Email, &i.Role, &i.InvitedBy, &i.AcceptedAt, &i.ExpiresAt, &i.CreatedAt, &i.Status); err != nil {
			return "", err
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return listSummary(len(out), nil, func(i int) (string, orgdb.InviteStatus) { return out[i].Email, out[i].Status })
}

// listSummary describes a list by its length and first and last rows.
func listSummary(n int, err error, at func(int) (string, orgdb.InviteStatus)) (string, error) {
	if err != nil || n == 0 {
		return "", err
	}
	first, s1 := at(0)
	last, s2 := at(n - 1)
	return fmt.Sprintf("%d %s/%s..%s/%s", n, first, s1, last, s2), nil
}

func acceptedSummary(at *orgdb.Time, err error) (string, error) {
	if err != nil {
		return "", err
	}
	if at == nil {
		return "", errRefused
	}
	return "accepted", nil
}

// begin starts the IMMEDIATE transaction the write variants run in.
func (f *fixture) begin() (*sql.Tx, error) { return f.pool.BeginTx(ctx, nil) }

// inTx runs fn in a transaction, with the floor's statements or hand-written
// SQL.
func (f *fixture) inTx(fn func(tx *sql.Tx) error) error {
	tx, err := f.begin()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// row runs a statement returning one row: prepared (floor) or not.
func (f *fixture) row(tx *sql.Tx, prepared bool, name string, args ...any) *sql.Row {
	if prepared {
		return f.stmt(tx, name).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, floorSQL[name], args...)
}

func (f *fixture) createInviteSQL(i int, prepared bool) (string, error) {
	email, t := f.emails[i%len(f.emails)], now()
	var inv db.Invite
	err := f.inTx(func(tx *sql.Tx) error {
		inviter, err := scanUser(f.row(tx, prepared, "GetUser", f.adminA))
		if err != nil {
			return err
		}
		if inviter.Role != orgdb.RoleAdmin {
			return errRefused
		}
		if _, err := scanUser(f.row(tx, prepared, "GetUserByEmail", email)); !errors.Is(err, sql.ErrNoRows) {
			return errors.Join(err, errRefused)
		}
		inv, err = scanInvite(f.row(tx, prepared, "UpsertInvite", orgdb.NewID(), email, orgdb.RoleMember, f.adminA,
			orgdb.NewTime(t.Add(store.DefaultInviteTTL)), t))
		return err
	})
	return inv.Email, err
}

func (f *fixture) setKeySQL(i int, prepared bool) (string, error) {
	p := providerAt(i)
	sealed, err := f.key.Seal(p, seal.NewSecret("sk-bench-key"))
	if err != nil {
		return "", err
	}
	var k db.OrgAPIKey
	err = f.inTx(func(tx *sql.Tx) error {
		u, err := scanUser(f.row(tx, prepared, "GetUser", f.adminA))
		if err != nil {
			return err
		}
		if u.Role != orgdb.RoleAdmin {
			return errRefused
		}
		return f.row(tx, prepared, "UpsertOrgAPIKey", orgdb.NewID(), p, sealed, f.adminA, now()).
			Scan(&k.ID, &k.Provider, &k.EncryptedKey, &k.SetBy, &k.CreatedAt, &k.UpdatedAt)
	})
	return string(k.Provider), err
}

func (f *fixture) updateRoleSQL(i int, prepared bool) (string, error) {
	role := roleAt(i)
	var u db.User
	err := f.inTx(func(tx *sql.Tx) error {
		// The actor's role, read in the transaction, as the store's policy
		// does (a demotion racing the write is seen).
		actor, err := scanUser(f.row(tx, prepared, "GetUser", f.adminA))
		if err != nil {
			return err
		}
		if actor.Role != orgdb.RoleAdmin {
			return errRefused
		}
		var res sql.Result
		if prepared {
			res, err = f.stmt(tx, "UpdateUserRole").ExecContext(ctx, role, now(), f.adminB)
		} else {
			res, err = tx.ExecContext(ctx, floorSQL["UpdateUserRole"], role, now(), f.adminB)
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, errRefused)
		}
		u, err = scanUser(f.row(tx, prepared, "GetUser", f.adminB))
		return err
	})
	return string(u.Role), err
}

// benchmark returns the testing benchmark of one variant of op.
func (f *fixture) benchmark(o op, v int) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		if o.setup != nil {
			if err := o.setup(f, b.N); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := range b.N {
			if _, err := o.run[v](f, i); err != nil {
				b.Fatalf("%s/%s: %v", o.name, variantNames[v], err)
			}
		}
	}
}
