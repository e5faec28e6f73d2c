package litefs

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
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/schema"
)

// LiteFS (github.com/superfly/litefs) replicates a SQLite file from one
// primary to read replicas through a FUSE mount. What this package reads of it,
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
// (EACCES), which SQLite reports as a disk I/O error. The store refuses it
// first, with NOT_PRIMARY.
const (
	primaryFile = ".primary"
	lagFile     = ".lag"
	posSuffix   = "-pos"
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

// Role is where a node stands among LiteFS nodes.
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

// Node is a database file on a LiteFS mount, as this node sees it.
type Node struct {
	dir string // the mount directory
	pos string // the database's -pos file
}

// Detect returns the LiteFS node of the database at path, or nil when the
// file is not on a LiteFS mount (no .lag file in LiteFS's format beside
// it).
func Detect(path string) *Node {
	dir := filepath.Dir(path)
	b, err := os.ReadFile(filepath.Join(dir, lagFile))
	if err != nil {
		return nil
	}
	if _, err := parseLag(b); err != nil {
		return nil
	}
	return &Node{dir: dir, pos: path + posSuffix}
}

// Dir returns the mount directory.
func (n *Node) Dir() string { return n.dir }

// parseLag parses the .lag file: a sign and at least nine digits (fmt's
// %+010d of milliseconds, at most 2147483647), then a newline.
func parseLag(b []byte) (int64, error) {
	s, ok := bytes.CutSuffix(b, []byte("\n"))
	if !ok || len(s) < 10 || len(s) > 11 || (s[0] != '+' && s[0] != '-') {
		return 0, fmt.Errorf("not a LiteFS .lag file: %q", b)
	}
	return strconv.ParseInt(string(s), 10, 64)
}

// ReadRole reads the mount's files now: .primary, then (when it is
// absent) .lag, which is zero only on the primary. It follows changes of
// primary.
func (n *Node) ReadRole() (Role, error) {
	b, err := os.ReadFile(filepath.Join(n.dir, primaryFile))
	switch {
	case err == nil:
		return Role{LiteFS: true, PrimaryHost: strings.TrimSpace(string(b))}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return Role{}, fmt.Errorf("read LiteFS %s: %w", primaryFile, err)
	}
	b, err = os.ReadFile(filepath.Join(n.dir, lagFile))
	if err != nil {
		return Role{}, fmt.Errorf("read LiteFS %s: %w", lagFile, err)
	}
	lag, err := parseLag(b)
	if err != nil {
		return Role{}, err
	}
	return Role{LiteFS: true, Primary: lag == 0}, nil
}

// Role is [Node.ReadRole], reporting a replica with no primary reachable
// (which refuses writes) when the files cannot be read.
func (n *Node) Role() Role {
	r, err := n.ReadRole()
	if err != nil {
		return Role{LiteFS: true}
	}
	return r
}

// NotPrimary is the refusal (NOT_PRIMARY) of a write on a replica in role
// r: reason replica, naming the primary in the message and details, or
// no_primary when none is reachable.
func NotPrimary(r Role) *orgdb.Error {
	if r.PrimaryHost == "" {
		return orgdb.Wrap(orgdb.CodeNotPrimary, nil,
			"this node is a read-only LiteFS replica and no primary is reachable: nothing was written; retry when the primary is back").
			WithReason(ReasonNoPrimary)
	}
	return orgdb.Wrap(orgdb.CodeNotPrimary, nil,
		"this node is a read-only LiteFS replica: nothing was written; send writes to the primary, %s", r.PrimaryHost).
		WithReason(ReasonReplica).WithDetails("primary", r.PrimaryHost)
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
	return Pos{}, orgdb.Validation("replication position %q: want TXID/CHECKSUM, 16 hex digits each, as Node.Pos writes it", s)
}

// Pos returns the database's current replication position on this node.
// On the primary, read after a write returns, it is at or past that
// write's commit: hand it to the client (see the README, "Running on
// several machines") so that a replica can [Node.WaitFor] it.
func (n *Node) Pos() (Pos, error) {
	b, err := os.ReadFile(n.pos)
	if err != nil {
		return Pos{}, orgdb.Internal(err, "read the LiteFS position: %v", err)
	}
	p, err := ParsePos(string(b))
	if err != nil {
		return Pos{}, orgdb.Internal(err, "read the LiteFS position %s: %v", n.pos, err)
	}
	return p, nil
}

// WaitFor returns once this node's database has reached pos (its TXID is
// at least pos's), so that a read after it sees every write committed up
// to pos on the primary. It returns at once for the zero Pos and on the
// primary. Errors: UNAVAILABLE (reason replica_behind, with the
// position reached in details) when ctx ends first; CONFLICT (reason
// position_diverged) when pos is from another history (as after a failover
// that lost writes): this node holds pos's TXID with another checksum, or
// is the primary and has not reached pos; INTERNAL_ERROR when the position
// cannot be read.
func (n *Node) WaitFor(ctx context.Context, pos Pos) error {
	if pos.IsZero() {
		return nil
	}
	interval := waitForFirstInterval
	var t *time.Timer
	for {
		cur, err := n.Pos()
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
		if t == nil && n.Role().Primary {
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

// AwaitSchema waits, up to wait, until the replica's copy of the database
// at path exists and carries every migration this binary has: a replica
// never migrates, the primary does and LiteFS ships it. When wait passes
// first it is UNAVAILABLE (reason schema_pending). A migration this binary
// lacks is refused at once (CONFLICT schema_newer): this binary is older
// than the primary's and must be upgraded. Another application's file is
// refused as on the primary (dbfile.NotOrgdb).
func (n *Node) AwaitSchema(ctx context.Context, path string, wait time.Duration) error {
	if wait <= 0 {
		return orgdb.Validation("open orgdb: replica wait %v: must be positive", wait)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
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
			r := n.Role()
			return orgdb.Wrap(orgdb.CodeUnavailable, errors.Join(ctx.Err(), err),
				"this LiteFS replica's schema is not ready after %v; migrate on the primary, or wait for replication", wait).
				WithInternalMessage("%s is a LiteFS replica (%s) whose schema is not ready after %v: %s; migrate on the primary (any orgdb command there does), or wait for replication",
					path, r, wait, why).WithReason(ReasonSchemaPending)
		case <-t.C:
		}
	}
}

// replicaPending inspects the replica's copy read-only: "" when every
// migration of this binary is applied, else what is missing.
func replicaPending(ctx context.Context, path string) (string, error) {
	sts, err := dbfile.Inspect(ctx, path, schema.FS())
	if errors.Is(err, fs.ErrNotExist) {
		return "the database has not reached this replica yet", nil
	}
	if errors.Is(err, schema.ErrNotOrgdb) {
		return "", dbfile.NotOrgdb(path, err)
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

// Require returns the node of the database at path, which must be on a
// LiteFS mount: otherwise VALIDATION_ERROR, reason not_litefs (a
// deployment that points at LiteFS's data directory instead of its mount,
// where writes would bypass replication).
func Require(path string) (*Node, error) {
	n := Detect(path)
	if n == nil {
		return nil, orgdb.Validation("the database is not on a LiteFS mount").
			WithInternalMessage("%s is not on a LiteFS mount (no LiteFS .lag file in %s): check that the path is in LiteFS's fuse.dir, not its data.dir",
				path, filepath.Dir(path)).WithReason(ReasonNotLiteFS)
	}
	return n, nil
}

// MountOf returns the LiteFS node path would be on if it were a database
// in the mount: the first directory from path's up to the root that is a
// LiteFS mount; nil if none is.
func MountOf(path string) *Node {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Detect(path)
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if n := Detect(filepath.Join(dir, filepath.Base(abs))); n != nil {
			return n
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
	}
}

// RefuseOnReplica returns NOT_PRIMARY, naming the primary, if the database
// at path is on a LiteFS replica, and nil otherwise (off LiteFS too). It is
// for code that writes without a store, such as `orgdb migrate`: a
// migration runs on the primary, and LiteFS ships it.
func RefuseOnReplica(path string) error {
	n := Detect(path)
	if n == nil {
		return nil
	}
	r, err := n.ReadRole()
	if err != nil {
		return orgdb.Internal(err, "%s: %v", path, err)
	}
	if !r.Primary {
		return NotPrimary(r)
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
func OnLiteFS(path string) bool { return Detect(path) != nil }
