package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/schema"
)

// LiteFS (github.com/superfly/litefs) replicates a SQLite file from one
// primary to read replicas through a FUSE mount. What a Store reads of it,
// all files in the mount directory, beside the database:
//
//   - .primary exists only on a replica and holds the primary's hostname;
//   - .lag is "+000000000" on the primary, and on a replica the
//     milliseconds since the primary was last heard from (2147483647
//     before the first sync);
//   - <db>-pos is the database's replication position, TXID/checksum in
//     hex.
//
// A write that reaches SQLite on a replica fails in LiteFS's FUSE layer
// (EACCES), which SQLite reports as a disk I/O error. The Store refuses it
// first, with NOT_PRIMARY.
const (
	litefsPrimaryFile = ".primary"
	litefsLagFile     = ".lag"
	litefsPosSuffix   = "-pos"
)

// Reasons of the LiteFS errors, in orgdb.Error.Reason.
const (
	ReasonReplica       = "replica"           // NOT_PRIMARY: a write on a replica whose primary is known
	ReasonNoPrimary     = "no_primary"        // NOT_PRIMARY: a write on a replica that reaches no primary
	ReasonReplicaBehind = "replica_behind"    // UNAVAILABLE: WaitFor's deadline passed first
	ReasonSchemaPending = "schema_pending"    // UNAVAILABLE: Open on a replica: the primary has not migrated in time
	ReasonSchemaNewer   = "schema_newer"      // CONFLICT: Open on a replica: the database has migrations this binary lacks
	ReasonNotLiteFS     = "not_litefs"        // VALIDATION_ERROR: WithLiteFS, but the file is not on a LiteFS mount
	ReasonPosDiverged   = "position_diverged" // CONFLICT: WaitFor: same TXID, other checksum (another history)
)

// DefaultReplicaWait is how long Open on a LiteFS replica waits, by
// default, for the primary's schema to reach it.
const DefaultReplicaWait = 30 * time.Second

const (
	replicaSchemaPoll    = 50 * time.Millisecond
	waitForFirstInterval = 250 * time.Microsecond
	waitForMaxInterval   = 10 * time.Millisecond
)

// WithLiteFS requires the database to be on a LiteFS mount: Open fails
// (VALIDATION_ERROR, reason not_litefs) if it is not, for instance when a
// deployment points at LiteFS's data directory instead of its mount, where
// writes would bypass replication. Without the option Open still detects
// a LiteFS mount (a .lag file beside the database in LiteFS's format) and
// behaves the same on it: a replica that did not know it was one would
// try to migrate and write, and fail with disk I/O errors.
func WithLiteFS() Option {
	return func(s *Store) { s.requireLiteFS = true }
}

// WithReplicaWait sets how long Open on a LiteFS replica waits for the
// primary's schema to carry every migration of this binary (default
// [DefaultReplicaWait]; Open's context can end it sooner).
func WithReplicaWait(d time.Duration) Option {
	return func(s *Store) { s.replicaWait = d }
}

// Role is where a Store stands among LiteFS nodes.
type Role struct {
	// LiteFS reports whether the database is on a LiteFS mount.
	LiteFS bool
	// Primary reports whether this node may write: the LiteFS primary, or
	// any database not on LiteFS.
	Primary bool
	// PrimaryHost is, on a replica, the hostname of the primary (LiteFS's
	// lease hostname); empty on the primary, and on a replica that
	// currently reaches no primary.
	PrimaryHost string
}

// String describes the role for people: "primary", "replica of HOST",
// "replica (no primary reachable)", or "standalone" off LiteFS.
func (r Role) String() string {
	switch {
	case !r.LiteFS:
		return "standalone"
	case r.Primary:
		return "primary"
	case r.PrimaryHost != "":
		return "replica of " + r.PrimaryHost
	default:
		return "replica (no primary reachable)"
	}
}

// litefsMount is the LiteFS mount a Store's database is on.
type litefsMount struct {
	dir string // the mount directory
	pos string // the database's -pos file
}

// detectLiteFS returns the mount the database at path is on, or nil.
func detectLiteFS(path string) *litefsMount {
	dir := filepath.Dir(path)
	b, err := os.ReadFile(filepath.Join(dir, litefsLagFile))
	if err != nil {
		return nil
	}
	if _, err := parseLag(b); err != nil {
		return nil
	}
	return &litefsMount{dir: dir, pos: path + litefsPosSuffix}
}

// parseLag parses the .lag file: a sign and at least nine digits (fmt's
// %+010d of milliseconds, at most 2147483647), then a newline.
func parseLag(b []byte) (int64, error) {
	s, ok := bytes.CutSuffix(b, []byte("\n"))
	if !ok || len(s) < 10 || len(s) > 11 || (s[0] != '+' && s[0] != '-') {
		return 0, fmt.Errorf("not a LiteFS .lag file: %q", b)
	}
	return strconv.ParseInt(string(s), 10, 64)
}

// role reads the mount's files now: .primary, then (when it is absent)
// .lag, which is zero only on the primary.
func (m *litefsMount) role() (Role, error) {
	b, err := os.ReadFile(filepath.Join(m.dir, litefsPrimaryFile))
	switch {
	case err == nil:
		return Role{LiteFS: true, PrimaryHost: strings.TrimSpace(string(b))}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return Role{}, fmt.Errorf("read LiteFS %s: %w", litefsPrimaryFile, err)
	}
	b, err = os.ReadFile(filepath.Join(m.dir, litefsLagFile))
	if err != nil {
		return Role{}, fmt.Errorf("read LiteFS %s: %w", litefsLagFile, err)
	}
	lag, err := parseLag(b)
	if err != nil {
		return Role{}, err
	}
	return Role{LiteFS: true, Primary: lag == 0}, nil
}

// Role tells where the store stands: off LiteFS always primary
// (standalone); on LiteFS it reads the mount's files at each call, so it
// follows changes of primary. If they cannot be read, it reports a replica
// with no primary reachable, which refuses writes.
func (s *Store) Role() Role {
	if s.litefs == nil {
		return Role{Primary: true}
	}
	r, err := s.litefs.role()
	if err != nil {
		s.log.Warn("orgdb: cannot read the LiteFS role; treating this node as a replica", "err", err)
		return Role{LiteFS: true}
	}
	return r
}

// notPrimary is the refusal of a write on a replica.
func notPrimary(r Role) *orgdb.Error {
	if r.PrimaryHost == "" {
		return orgdb.Wrap(orgdb.CodeNotPrimary, nil,
			"this node is a read-only LiteFS replica and no primary is reachable: nothing was written; retry when the primary is back").
			WithReason(ReasonNoPrimary)
	}
	return orgdb.Wrap(orgdb.CodeNotPrimary, nil,
		"this node is a read-only LiteFS replica: nothing was written; send writes to the primary, %s", r.PrimaryHost).
		WithReason(ReasonReplica).WithDetails("primary", r.PrimaryHost)
}

// writable is the one guard of every write: on a LiteFS node that is not
// the primary it returns NOT_PRIMARY before anything reaches SQLite.
func (s *Store) writable() error {
	if s.litefs == nil {
		return nil
	}
	if r := s.Role(); !r.Primary {
		return notPrimary(r)
	}
	return nil
}

// demoted turns the failure of a write that passed the guard into
// NOT_PRIMARY when the node stopped being the primary meanwhile (LiteFS
// then failed it with a disk I/O error); otherwise it returns err.
func (s *Store) demoted(err error) error {
	if err == nil || s.litefs == nil {
		return err
	}
	if r := s.Role(); !r.Primary {
		e := notPrimary(r)
		w := orgdb.Wrap(e.Code, err, "%s", e.Message).WithReason(e.Reason)
		w.Details = e.Details
		return w
	}
	return err
}

// Pos is a LiteFS replication position of the database: the ID of its last
// transaction and the checksum of the database after it. Its text form,
// "TXID/CHECKSUM" in 16 hex digits each, is LiteFS's <db>-pos file, and
// what a service sends to its clients to read their own writes.
type Pos struct {
	TXID     uint64
	Checksum uint64
}

// String returns the position in LiteFS's text form.
func (p Pos) String() string { return fmt.Sprintf("%016x/%016x", p.TXID, p.Checksum) }

// IsZero reports whether p is the zero position (no transaction).
func (p Pos) IsZero() bool { return p == Pos{} }

// ParsePos parses a position in LiteFS's text form ("TXID/CHECKSUM", hex;
// a trailing newline is allowed). Bad input is a VALIDATION_ERROR.
func ParsePos(s string) (Pos, error) {
	t, c, ok := strings.Cut(strings.TrimSuffix(s, "\n"), "/")
	if ok && len(t) == 16 && len(c) == 16 {
		txid, err1 := strconv.ParseUint(t, 16, 64)
		sum, err2 := strconv.ParseUint(c, 16, 64)
		if err1 == nil && err2 == nil {
			return Pos{TXID: txid, Checksum: sum}, nil
		}
	}
	return Pos{}, orgdb.Validation("replication position %q: want TXID/CHECKSUM, 16 hex digits each, as Store.Pos writes it", s)
}

// Pos returns the database's current replication position on this node.
// On the primary, read after a write returns, it is at or past that
// write's commit: hand it to the client (see the README, "Running on
// several machines") so that a replica can [Store.WaitFor] it. Off LiteFS
// it is the zero Pos, which WaitFor passes at once.
func (s *Store) Pos() (Pos, error) {
	if s.litefs == nil {
		return Pos{}, nil
	}
	b, err := os.ReadFile(s.litefs.pos)
	if err != nil {
		return Pos{}, orgdb.Internal(err, "read the LiteFS position: %v", err)
	}
	p, err := ParsePos(string(b))
	if err != nil {
		return Pos{}, orgdb.Internal(err, "read the LiteFS position %s: %v", s.litefs.pos, err)
	}
	return p, nil
}

// WaitFor returns once this node's database has reached pos (its TXID is
// at least pos's), so that a read after it sees every write committed up
// to pos on the primary. It returns at once off LiteFS, for the zero Pos
// and on the primary. Errors: UNAVAILABLE (reason replica_behind, with the
// position reached in details) when ctx ends first; CONFLICT (reason
// position_diverged) when pos is from another history (as after a failover
// that lost writes): this node holds pos's TXID with another checksum, or
// is the primary and has not reached pos; INTERNAL_ERROR when the position
// cannot be read.
func (s *Store) WaitFor(ctx context.Context, pos Pos) error {
	if s.litefs == nil || pos.IsZero() {
		return nil
	}
	interval := waitForFirstInterval
	var t *time.Timer
	for {
		cur, err := s.Pos()
		if err != nil {
			return err
		}
		switch {
		case cur.TXID == pos.TXID && cur.Checksum != pos.Checksum:
			return orgdb.Conflict("replication position %s: this node has transaction %x with checksum %016x, another history; read from the primary",
				pos, cur.TXID, cur.Checksum).WithReason(ReasonPosDiverged).WithDetails("position", cur.String())
		case cur.TXID >= pos.TXID:
			return nil
		}
		if t == nil && s.Role().Primary {
			// The primary has every position of its history: one past
			// it comes from a history lost in a failover.
			return orgdb.Conflict("replication position %s is ahead of this primary (at %s): it comes from writes lost in a failover; the data it stands for is gone",
				pos, cur).WithReason(ReasonPosDiverged).WithDetails("position", cur.String())
		}
		if t == nil {
			t = time.NewTimer(interval)
			defer t.Stop()
		} else {
			t.Reset(interval)
		}
		select {
		case <-ctx.Done():
			return orgdb.Wrap(orgdb.CodeUnavailable, ctx.Err(),
				"this replica has not reached position %s yet (it is at %s): %v; retry, or read from the primary",
				pos, cur, ctx.Err()).WithReason(ReasonReplicaBehind).WithDetails("position", cur.String())
		case <-t.C:
		}
		interval = min(2*interval, waitForMaxInterval)
	}
}

// awaitReplicaSchema waits until the replica's copy of the database exists
// and carries every migration this binary has: a replica never migrates,
// the primary does and LiteFS ships it. A migration this binary lacks is
// refused at once (CONFLICT schema_newer): this binary is older than the
// primary's and must be upgraded. Another application's file is refused as
// on the primary.
func (s *Store) awaitReplicaSchema(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, s.replicaWait)
	defer cancel()
	t := time.NewTicker(replicaSchemaPoll)
	defer t.Stop()
	for {
		pending, err := replicaPending(ctx, path)
		if err == nil && pending == "" {
			return nil
		}
		var oe *orgdb.Error
		if errors.As(err, &oe) || errors.Is(err, schema.ErrNotOrgdb) {
			return err
		}
		select {
		case <-ctx.Done():
			why := pending
			if err != nil {
				why = err.Error()
			}
			r := s.Role()
			return orgdb.Wrap(orgdb.CodeUnavailable, errors.Join(ctx.Err(), err),
				"this LiteFS replica's schema is not ready after %v; migrate on the primary, or wait for replication", s.replicaWait).
				WithInternalMessage("%s is a LiteFS replica (%s) whose schema is not ready after %v: %s; migrate on the primary (any orgdb command there does), or wait for replication",
					path, r, s.replicaWait, why).WithReason(ReasonSchemaPending)
		case <-t.C:
		}
	}
}

// replicaPending inspects the replica's copy read-only: "" when every
// migration of this binary is applied, else what is missing.
func replicaPending(ctx context.Context, path string) (string, error) {
	sts, err := schema.Inspect(ctx, path, schema.FS())
	if errors.Is(err, fs.ErrNotExist) {
		return "the database has not reached this replica yet", nil
	}
	if errors.Is(err, schema.ErrNotOrgdb) {
		return "", notOrgdb(path, err)
	}
	if err != nil {
		return "", err
	}
	var missing []string
	for _, st := range sts {
		switch {
		case st.File == "":
			return "", orgdb.Conflict("the database has migration %04d_%s, which this binary does not carry: the primary runs a newer orgdb; upgrade this one",
				st.Version, st.Name).
				WithInternalMessage("%s has migration %04d_%s, which this binary does not carry: the primary runs a newer orgdb; upgrade this one",
					path, st.Version, st.Name).WithReason(ReasonSchemaNewer)
		case st.Edited():
			return "", orgdb.Conflict("migration %s was applied from another version of the file; this binary and the primary's differ", st.File).
				WithInternalMessage("%s: migration %s was applied from another version of the file; this binary and the primary's differ",
					path, st.File).WithReason(ReasonSchemaNewer)
		case !st.Applied:
			missing = append(missing, st.File)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("%d migrations pending (%s)", len(missing), strings.Join(missing, ", ")), nil
	}
	return "", nil
}

// openLiteFS detects the LiteFS mount (see [WithLiteFS]).
func (s *Store) openLiteFS(path string) error {
	s.litefs = detectLiteFS(path)
	if s.requireLiteFS && s.litefs == nil {
		return orgdb.Validation("the database is not on a LiteFS mount").
			WithInternalMessage("%s is not on a LiteFS mount (no LiteFS .lag file in %s): check that the path is in LiteFS's fuse.dir, not its data.dir",
				path, filepath.Dir(path)).WithReason(ReasonNotLiteFS)
	}
	if s.replicaWait <= 0 {
		return orgdb.Validation("open orgdb: replica wait %v: must be positive", s.replicaWait)
	}
	return nil
}

// checkpointsHere reports whether this store checkpoints the WAL: not on a
// LiteFS replica, whose copy LiteFS alone writes.
func (s *Store) checkpointsHere() bool { return s.litefs == nil || s.Role().Primary }

// RefuseOnReplica returns NOT_PRIMARY, naming the primary, if the database
// at path is on a LiteFS replica, and nil otherwise (off LiteFS too). It is
// for code that writes without a Store, such as `orgdb migrate`: a
// migration runs on the primary, and LiteFS ships it.
func RefuseOnReplica(path string) error {
	m := detectLiteFS(path)
	if m == nil {
		return nil
	}
	r, err := m.role()
	if err != nil {
		return orgdb.Internal(err, "%s: %v", path, err)
	}
	if !r.Primary {
		return notPrimary(r)
	}
	return nil
}

// OnLiteFS reports whether the database file at path is on a LiteFS mount.
// File modes there are LiteFS's own (0666 files in a 0777 directory on the
// primary) and chmod does not change them: the mount is private to the user
// who mounted it (FUSE refuses every other user unless LiteFS's
// fuse.allow-other is set), and the data at rest is in LiteFS's data.dir,
// which must be private (chmod 700). So orgdb does not warn about the
// mount's modes.
func OnLiteFS(path string) bool { return detectLiteFS(path) != nil }
