// Package store opens an orgdb SQLite database with the settings every
// caller needs, migrates it, and adds the few operations that need more
// than one generated query (policy decisions, multi-statement flows).
//
// The generated queries of gen/db are embedded in [Store], so
// st.GetOrgSettings(ctx) is the typed sqlc query itself, prepared once.
//
// # Connections
//
// A Store holds two pools on one file. Writes go through a single writer
// connection (SQLite allows one writer at a time; queueing in Go is cheaper
// than SQLite's busy-waiting), and reads through a pool of read-only
// connections, one per core by default ([WithReadConns]), which WAL lets
// run beside the writer. Every generated query is prepared once on the
// pool it belongs to: a SELECT on the readers, anything else on the writer;
// callers never choose. [Store.Tx] runs on the writer, in one IMMEDIATE
// transaction, with the statements prepared there. Commits never stop to
// checkpoint the WAL: a background goroutine does it on its own connection.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/seal"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// Store is an open orgdb database. It is safe for concurrent use.
//
// Its own methods (CreateUser, UpdateUserRole, CreateInvite, …) are the
// operations that need validation, a policy decision or more than one
// statement; where one has the name of a generated query it wraps that
// query, which stays reachable as st.Queries.Name.
type Store struct {
	*db.Queries             // prepared on the router: SELECTs on the readers, writes on the writer
	txq         *db.Queries // prepared on the writer, for Tx
	writer      *sql.DB     // one connection
	readers     *sql.DB     // read-only connections
	ckpt        *sql.DB     // one connection, for the background checkpoints
	stop        chan struct{}
	done        chan struct{}
	readConns   int
	now         func() time.Time
	inviteTTL   time.Duration
	key         seal.Key
	keySet      bool
}

// DefaultInviteTTL is how long an invite stays valid unless configured
// otherwise.
const DefaultInviteTTL = 7 * 24 * time.Hour

// Option configures [Open].
type Option func(*Store)

// WithClock replaces time.Now as the store's notion of the current time:
// the timestamps it writes and the instant expiry is checked against.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithSealingKey sets the key that seals org API keys (usually
// seal.KeyFromEnv(os.Getenv), which fails clearly on a missing or malformed
// ORGDB_ENCRYPTION_KEY). Without it the store works, but setting or reading
// an org API key is an ENCRYPTION_ERROR; with a zero Key, Open fails.
func WithSealingKey(k seal.Key) Option {
	return func(s *Store) { s.key, s.keySet = k, true }
}

// WithReadConns sets the size of the read pool (default GOMAXPROCS, at
// least 2). SQLite reads from a warm page cache are CPU-bound, so more
// connections than cores only take CPU from the writer, whose transactions
// then hold the write lock longer.
func WithReadConns(n int) Option {
	return func(s *Store) { s.readConns = n }
}

// WithInviteTTL sets how long new invites stay valid (default
// [DefaultInviteTTL]).
func WithInviteTTL(d time.Duration) Option {
	return func(s *Store) { s.inviteTTL = d }
}

// DSN returns the go-sqlite3 data source name orgdb uses for the database
// file at path; see [schema.DSN] for the settings it carries.
func DSN(path string) string { return schema.DSN(path) }

// readDSN is DSN for the read pool: the same settings, and query_only so a
// write that reached a reader by mistake fails loudly.
func readDSN(path string) string { return DSN(path) + "&_query_only=1" }

// Open opens (creating if needed) the database file at path, applies every
// pending migration, prepares every query and returns the store. The
// directory must exist. ":memory:" is refused: every pooled connection
// would get its own empty database.
func Open(ctx context.Context, path string, opts ...Option) (_ *Store, err error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open orgdb: path %q: want the path of a database file", path)
	}
	s := &Store{now: time.Now, inviteTTL: DefaultInviteTTL, readConns: max(2, runtime.GOMAXPROCS(0))}
	for _, o := range opts {
		o(s)
	}
	if s.inviteTTL <= 0 {
		return nil, fmt.Errorf("open orgdb: invite TTL %v: must be positive", s.inviteTTL)
	}
	if s.keySet && s.key.IsZero() {
		return nil, fmt.Errorf("open orgdb: WithSealingKey given the zero key; load it with seal.KeyFromEnv")
	}
	if s.readConns < 1 {
		return nil, fmt.Errorf("open orgdb: %d read connections: want at least 1", s.readConns)
	}
	defer func() {
		if err != nil {
			s.Close()
			err = fmt.Errorf("open orgdb %s: %w", path, err)
		}
	}()
	// Neither pool closes idle connections: a connection keeps the
	// statements prepared on it.
	if s.writer, err = sql.Open(writerDriverName, DSN(path)); err != nil {
		return nil, err
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	// The first connection to a new file switches it to WAL, which fails at
	// once while another process does the same.
	if err := schema.RetryBusy(ctx, func() error { return s.writer.PingContext(ctx) }); err != nil {
		return nil, err
	}
	if _, err := schema.Migrate(ctx, s.writer, schema.FS()); err != nil {
		return nil, err
	}
	if s.readers, err = sql.Open(readerDriver, readDSN(path)); err != nil {
		return nil, err
	}
	s.readers.SetMaxOpenConns(s.readConns)
	s.readers.SetMaxIdleConns(s.readConns)
	if s.Queries, err = db.Prepare(ctx, router{readers: s.readers, writer: s.writer}); err != nil {
		return nil, err
	}
	if s.txq, err = db.Prepare(ctx, s.writer); err != nil {
		return nil, err
	}
	if s.keySet {
		if err := checkSealingKey(ctx, s.Queries, s.key); err != nil {
			return nil, err
		}
	}
	if s.ckpt, err = sql.Open("sqlite3", DSN(path)); err != nil {
		return nil, err
	}
	s.ckpt.SetMaxOpenConns(1)
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.checkpoints()
	return s, nil
}

// Close stops the checkpoints, checkpoints the whole WAL into the database
// file, and closes the prepared statements and the pools.
func (s *Store) Close() error {
	var errs []error
	if s.stop != nil {
		close(s.stop)
		<-s.done
		_, err := s.ckpt.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		errs = append(errs, err, s.ckpt.Close())
	}
	for _, q := range []*db.Queries{s.Queries, s.txq} {
		if q != nil {
			errs = append(errs, q.Close())
		}
	}
	for _, d := range []*sql.DB{s.readers, s.writer} {
		if d != nil {
			errs = append(errs, d.Close())
		}
	}
	return errors.Join(errs...)
}

// DB returns the writer pool (one connection), for database/sql access
// outside the generated queries: it can read and write. Do not hold one of
// its connections or transactions while calling the store's methods that
// write: they wait for that same connection.
func (s *Store) DB() *sql.DB { return s.writer }

// ReadDB returns the pool of read-only connections.
func (s *Store) ReadDB() *sql.DB { return s.readers }

// Tx runs fn in one IMMEDIATE transaction on the writer connection: it
// holds the database's write lock from its start, so whatever fn reads stays
// true until it commits. Use only q inside fn (the store's own methods would
// wait for the connection fn holds). fn's error (or a panic) rolls back;
// otherwise Tx commits.
//
// This is how a caller runs a read-check-write sequence safely:
//
//	err := st.Tx(ctx, func(q *db.Queries) error {
//		u, err := q.GetUser(ctx, id)
//		if err != nil {
//			return err
//		}
//		...
//	})
func (s *Store) Tx(ctx context.Context, fn func(q *db.Queries) error) (err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
				err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
			}
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(s.txq.WithTx(tx)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Now returns the store's clock reading as a database timestamp.
func (s *Store) Now() orgdb.Time { return orgdb.NewTime(s.now()) }
