package store

import (
	"context"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/litefs"
)

// replicator is what the store asks of the layer that replicates its file
// (package litefs, whose *litefs.Node it is): where this node stands, may
// it write, and which position of the primary's history it has reached.
// A Store off LiteFS has none (the field is nil) and is always primary.
type replicator interface {
	ReadRole() (litefs.Role, error)
	Pos() (litefs.Pos, error)
	WaitFor(ctx context.Context, pos litefs.Pos) error
}

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
// [litefs.DefaultReplicaWait]; Open's context can end it sooner).
func WithReplicaWait(d time.Duration) Option {
	return func(s *Store) { s.replicaWait = d }
}

// openLiteFS detects the LiteFS mount (see [WithLiteFS]) and, on a
// replica that will write nothing, waits for the primary's schema. It
// reports whether this node is a replica.
func (s *Store) openLiteFS(ctx context.Context, path string) (replica bool, err error) {
	if s.replicaWait <= 0 {
		return false, orgdb.Validation("open orgdb: replica wait %v: must be positive", s.replicaWait)
	}
	n := litefs.Detect(path)
	if s.requireLiteFS {
		if n, err = litefs.Require(path); err != nil {
			return false, err
		}
	}
	if n == nil {
		return false, nil
	}
	s.litefs = n
	if s.readOnly || s.Role().Primary {
		return false, nil
	}
	return true, n.AwaitSchema(ctx, path, s.replicaWait)
}

// Role tells where the store stands: off LiteFS always primary
// (standalone); on LiteFS it reads the mount's files at each call, so it
// follows changes of primary. If they cannot be read, it reports a replica
// with no primary reachable, which refuses writes.
func (s *Store) Role() litefs.Role {
	if s.litefs == nil {
		return litefs.Role{Primary: true}
	}
	r, err := s.litefs.ReadRole()
	if err != nil {
		s.log.Warn("orgdb: cannot read the LiteFS role; treating this node as a replica", "err", err)
		return litefs.Role{LiteFS: true}
	}
	return r
}

// writable is the one guard of every write: on a LiteFS node that is not
// the primary it returns NOT_PRIMARY before anything reaches SQLite.
func (s *Store) writable() error {
	if s.litefs == nil {
		return nil
	}
	if r := s.Role(); !r.Primary {
		return litefs.NotPrimary(r)
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
		e := litefs.NotPrimary(r)
		w := orgdb.Wrap(e.Code, err, "%s", e.Message).WithReason(e.Reason)
		w.Details = e.Details
		return w
	}
	return err
}

// checkpointsHere reports whether this store checkpoints the WAL: not on a
// LiteFS replica, whose copy LiteFS alone writes.
func (s *Store) checkpointsHere() bool { return s.litefs == nil || s.Role().Primary }

// Pos returns the database's current replication position on this node
// (see [litefs.Node.Pos]). On the primary, read after a write returns, it
// is at or past that write's commit: hand it to the client (see the
// README, "Running on several machines") so that a replica can
// [Store.WaitFor] it. Off LiteFS it is the zero Pos, which WaitFor passes
// at once.
func (s *Store) Pos() (litefs.Pos, error) {
	if s.litefs == nil {
		return litefs.Pos{}, nil
	}
	return s.litefs.Pos()
}

// WaitFor returns once this node's database has reached pos, so that a
// read after it sees every write committed up to pos on the primary (see
// [litefs.Node.WaitFor] for its errors). It returns at once off LiteFS.
func (s *Store) WaitFor(ctx context.Context, pos litefs.Pos) error {
	if s.litefs == nil {
		return nil
	}
	return s.litefs.WaitFor(ctx, pos)
}
