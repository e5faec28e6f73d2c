package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/mattn/go-sqlite3"

	"github.com/agentops/orgdb"
)

// changes tells whether anything committed on the database since it last
// looked: SQLite's PRAGMA data_version on one read-only connection of the
// store's own (pinned: taken from the read pool, which is given one
// connection more). data_version changes when another connection commits,
// in this process or any other (the CLI beside a service); the pinned
// connection never writes, so every commit counts. It is read in a
// transaction of its own, which checks the WAL index as any read does: it
// sees what the page cache sees, on a LiteFS replica too.
type changes struct {
	mu   sync.Mutex
	conn *sql.Conn
	// stmt is prepared on conn's driver connection and run through the
	// driver (inside conn.Raw): database/sql's layers cost as much as the
	// PRAGMA itself.
	stmt *sqlite3.SQLiteStmt
	dest []driver.Value
	last int64  // the last data_version read
	gen  uint64 // bumped whenever it differs from last
}

// read runs the PRAGMA. The caller holds c.mu.
func (c *changes) read() (int64, error) {
	var v int64
	err := c.conn.Raw(func(any) error {
		rows, err := c.stmt.QueryContext(context.Background(), nil)
		if err != nil {
			return err
		}
		err = rows.Next(c.dest)
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		n, ok := c.dest[0].(int64)
		if !ok {
			return fmt.Errorf("PRAGMA data_version returned a %T", c.dest[0])
		}
		v = n
		return nil
	})
	return v, err
}

// Generation returns a number that changes after any transaction commits
// on the database, from any connection of any process, and stays the same
// while none does. A value read from the database after a call that
// returned g is still current while Generation returns g: cache it tagged
// with the g read before reading it ([Cached] does). Each call is one
// PRAGMA on a connection of its own (a few microseconds; calls queue for
// it). The first call opens that connection. Errors: INTERNAL_ERROR.
//
// Within a context from [WithOneGeneration] it reads the generation at
// the first call only and returns that value after.
func (s *Store) Generation(ctx context.Context) (uint64, error) {
	m, _ := ctx.Value(generationKey{}).(*generationMemo)
	if m != nil && m.st == s {
		if g := m.gen.Load(); g != 0 {
			return g, nil
		}
	}
	g, err := s.readGeneration(ctx)
	if err == nil && m != nil && m.st == s {
		m.gen.CompareAndSwap(0, g)
	}
	return g, err
}

// WithOneGeneration returns a context in which st's Generation is read
// once, at its first call, for a unit of work that needs one state of
// the database, no newer than its start: an HTTP request (its
// authentication and its cached reads then cost one PRAGMA, not one each).
// A value cached under that generation may be used for the whole unit, as
// a read made at its start would be.
func WithOneGeneration(ctx context.Context, st *Store) context.Context {
	return context.WithValue(ctx, generationKey{}, &generationMemo{st: st})
}

type generationKey struct{}

type generationMemo struct {
	st  *Store
	gen atomic.Uint64 // 0 until read
}

// readGeneration reads data_version on the pinned connection.
func (s *Store) readGeneration(ctx context.Context) (uint64, error) {
	c, err := s.changes(ctx)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stmt == nil {
		return 0, orgdb.Internal(nil, "database generation: the store is closed")
	}
	if err := ctx.Err(); err != nil {
		return 0, Translate(err, "database generation")
	}
	v, err := c.read()
	if err != nil {
		return 0, Translate(fmt.Errorf("PRAGMA data_version: %w", err), "database generation")
	}
	if v != c.last {
		c.last = v
		c.gen++
	}
	return c.gen, nil
}

// changes returns the store's watcher, opening it on first use.
func (s *Store) changes(ctx context.Context) (*changes, error) {
	if c := s.watch.Load(); c != nil {
		return c, nil
	}
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	if c := s.watch.Load(); c != nil {
		return c, nil
	}
	if s.watchClosed {
		return nil, orgdb.Internal(nil, "database generation: the store is closed")
	}
	// One connection more in the read pool, pinned here: the store's reads
	// keep as many as before.
	n := s.readConns + 1
	s.readers.SetMaxOpenConns(n)
	s.readers.SetMaxIdleConns(n)
	conn, err := s.readers.Conn(ctx)
	if err != nil {
		return nil, Translate(fmt.Errorf("pin a connection: %w", err), "database generation")
	}
	c := &changes{conn: conn, dest: make([]driver.Value, 1), last: -1}
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("the read pool's connection is a %T, not go-sqlite3's", dc)
		}
		st, err := sc.Prepare(`PRAGMA data_version`)
		if err != nil {
			return err
		}
		c.stmt = st.(*sqlite3.SQLiteStmt)
		return nil
	})
	if err != nil {
		_ = conn.Close()
		return nil, Translate(fmt.Errorf("prepare PRAGMA data_version: %w", err), "database generation")
	}
	// The first read moves gen from 0 to 1: 0 is never a generation, so a
	// zero cache tag never matches.
	s.watch.Store(c)
	return c, nil
}

// closeChanges releases the pinned connection (Store.close).
func (s *Store) closeChanges() error {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	s.watchClosed = true
	c := s.watch.Load()
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.conn.Raw(func(any) error { return c.stmt.Close() })
	if cerr := c.conn.Close(); err == nil {
		err = cerr
	}
	c.stmt = nil
	return err
}

// Cached is a value computed from the database and kept until anything
// commits on it (see [Store.Generation]): Get costs one PRAGMA while the
// database is unchanged, and computes the value again after any commit,
// by this process or another. It is safe for concurrent use. The value is
// shared between callers: they must not modify it.
type Cached[T any] struct {
	st    *Store
	read  func(ctx context.Context) (T, error)
	entry atomic.Pointer[cachedEntry[T]]
}

type cachedEntry[T any] struct {
	gen uint64
	v   T
}

// NewCached returns a cache of what read returns. read must read only the
// database (and constants): its result is reused until a commit.
func NewCached[T any](st *Store, read func(ctx context.Context) (T, error)) *Cached[T] {
	return &Cached[T]{st: st, read: read}
}

// Get returns the value, current as of the call. Errors: Generation's,
// and read's.
func (c *Cached[T]) Get(ctx context.Context) (T, error) {
	g, err := c.st.Generation(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	if e := c.entry.Load(); e != nil && e.gen == g {
		return e.v, nil
	}
	// Read after the generation was read: the value is at least as new as
	// g, so it may carry g's tag.
	v, err := c.read(ctx)
	if err != nil {
		return v, err
	}
	for {
		old := c.entry.Load()
		if old != nil && old.gen >= g {
			break // another caller stored one as new
		}
		if c.entry.CompareAndSwap(old, &cachedEntry[T]{gen: g, v: v}) {
			break
		}
	}
	return v, nil
}
