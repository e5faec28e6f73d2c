// Package store is the API a service holds on an orgdb database: [Open]
// (which migrates it), typed reads and policy-checked writes, [Store.Tx]
// and [Store.ReadTx], the two pools and the background checkpoints, and
// [Translate], the one interpretation of a database error; every error is
// an [*orgdb.Error].
//
// It owns nothing else. Opening and inspecting the file (DSNs, drivers,
// path checks, the refusal of a file that is not orgdb's) is package
// dbfile's; LiteFS awareness is package litefs's, which the store consults
// through a small interface (may this node write, where is the primary,
// which position has it reached); backups, restores and the lock-out of
// other processes are package backup's. docs/packages.md has the map.
//
// # The surface
//
// A [Store]'s methods are the operations a service needs: the reads
// (GetUser, GetUserByEmail, ListUsers, AllUsers, CountUsers,
// GetOrgSettings, ValidInvite, ListInvites, ListIntegrationsForUser,
// ListOrgAPIKeyViews, …) and the writes, each of which validates its input
// and applies its rules (the last admin, accept-once, sealing) in one
// statement or one IMMEDIATE transaction. Every write names who does it:
// an [Actor] ([ByUser], or the explicit [Operator]) after ctx; its [Rule]
// is decided by one function reading the actor's role inside the write's
// own transaction (the README has the table). The sign-up,
// [Store.CreateUser], has no actor: the sign-up policy decides, in the
// transaction that creates the user. Every error is an [*orgdb.Error]: a
// missing row is NOT_FOUND (errors.Is(err, orgdb.ErrNotFound)), a
// database failure that is nobody's fault is INTERNAL_ERROR wrapping its
// cause, whose JSON says only "internal error"; see [Translate].
//
// The generated queries of gen/db are not part of the Store's method set.
// They are reached inside a transaction, for the sequences the Store has no
// method for: [Store.Tx] (the writer, IMMEDIATE; the caller names the actor
// and states the rule, which the store checks before fn runs) and
// [Store.ReadTx] (one snapshot on a reader); [TxV] and [ReadTxV] return a
// value. What fn writes through the raw queries, and what code writes
// through [Store.DB], is checked only by the schema's constraints and
// triggers.
//
// # Connections
//
// A Store holds two pools on one file. Writes go through a single writer
// connection (SQLite allows one writer at a time; queueing in Go is cheaper
// than SQLite's busy-waiting), and reads through a pool of read-only
// connections, one per core by default ([WithReadConns]), which WAL lets
// run beside the writer. Every generated query is prepared once on each
// pool; the Store's reads run on the readers and its writes on the writer.
// Writer transactions are IMMEDIATE, reader transactions deferred. Commits
// never stop to checkpoint the WAL: a background goroutine does it on its
// own connection.
//
// # Caching reads
//
// [Store.Generation] tells whether anything committed on the database,
// from any connection of any process, since it last looked (PRAGMA
// data_version on one more read connection, pinned; a few
// microseconds), and [Cached] keeps a value read from the database until
// then: package httpapi keeps the bodies of its hottest reads and package
// apitoken the tokens it looked up that way, so a change by the CLI in
// another process is seen by the next request.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/litefs"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/seal"
)

// Store is an open orgdb database. It is safe for concurrent use. Its
// methods are listed in the package documentation; the generated queries
// are reached through [Store.Tx] and [Store.ReadTx].
type Store struct {
	readOnly bool        // opened with ReadOnly: writer and wq are the readers
	atRest   bool        // ReadOnlyAtRest: may open a file at rest as immutable
	rq       *db.Queries // prepared on the readers
	wq       *db.Queries // prepared on the writer
	writer   *sql.DB     // one connection
	readers  *sql.DB     // read-only connections, deferred transactions
	ckpt     *sql.DB     // one connection, for the background checkpoints
	stop     chan struct{}
	done     chan struct{}

	closeOnce sync.Once
	closeErr  error

	// The commit watcher of Generation (changes.go), opened on first use.
	watch       atomic.Pointer[changes]
	watchMu     sync.Mutex
	watchClosed bool

	readConns int
	external  bool     // WithExternalCheckpoints: no checkpoints of our own
	gate      *walGate // the writer's WAL gate (checkpoint.go), nil without checkpoints
	now       func() time.Time
	inviteTTL time.Duration
	key       seal.Key // derived for this database once Open returns
	legacy    seal.Key // the key with the fixed salt, while values use it
	keySet    bool
	log       *slog.Logger

	litefs        replicator // the LiteFS node of the file, or nil (replication.go)
	requireLiteFS bool
	replicaWait   time.Duration

	// allowedEmails is the ALLOWED_EMAILS fallback of the sign-up policy
	// (WithAllowedEmails).
	allowedEmails orgdb.EmailList

	// Test hooks, set by unexported options.
	afterAuthorize  func() // in a write's transaction, once authorize has admitted the actor
	wrapWriter      func(driver.Driver) driver.Driver
	checkpointQuery string
	afterCheckpoint func(error)
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
// an org API key is an ENCRYPTION_ERROR; with a zero Key, Open fails. A
// passphrase key is derived by Open with the database's own salt (see
// [seal.KDF]; about 0.3 s); values sealed by older versions under the
// fixed salt still open, and move to the database's salt with
// [Store.RotateSealingKey] or the next [Store.SetOrgAPIKey].
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

// ReadOnly opens the database for reading only, changing nothing in or
// beside the file: no migration, no journal-mode switch, no checkpoints.
// The file must exist (else NOT_FOUND, reason no_database, naming the path
// and `orgdb migrate`) and be an orgdb database with every migration
// applied (else VALIDATION_ERROR not_orgdb, or CONFLICT not_migrated). A
// file the process may not write (a read-only copy, another user's file)
// can be read. The store's writes, and Tx, then fail with INTERNAL_ERROR
// ("the database is open read-only"). Commands and services that only
// read use it, so a typo'd path is an error rather than a new database.
func ReadOnly() Option {
	return func(s *Store) { s.readOnly = true }
}

// ReadOnlyAtRest is [ReadOnly] for one-shot readers, such as a CLI
// command: a WAL-mode file in a directory this process may not write (a
// read-only copy, another user's file) can be opened only if its -shm file
// exists, so when it does not, and no -wal or -journal file is beside it
// (nothing writes to it, nothing to recover), the file is opened as
// immutable. An immutable connection takes no locks: it would not see,
// and could misread, what a writer starting later writes. A service that
// stays open uses ReadOnly.
func ReadOnlyAtRest() Option {
	return func(s *Store) { s.readOnly, s.atRest = true, true }
}

// WithLogger sets where the store reports what it cannot return to a
// caller: a failed background checkpoint (logged at Warn, retried on the
// next tick), and, once per Open, a database or directory that group or
// others can access and org API keys still sealed under the fixed salt of
// older versions (both at Warn, saying what to run). The default discards
// them.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) { s.log = l }
}

// withWriterDriver wraps the writer's driver (tests count its prepares).
func withWriterDriver(wrap func(driver.Driver) driver.Driver) Option {
	return func(s *Store) { s.wrapWriter = wrap }
}

// withCheckpointQuery replaces the background checkpoint statement (tests
// make it fail).
func withCheckpointQuery(q string) Option {
	return func(s *Store) { s.checkpointQuery = q }
}

// withAfterCheckpoint is called after every background checkpoint with its
// result (tests await a checkpoint instead of sleeping).
func withAfterCheckpoint(f func(error)) Option {
	return func(s *Store) { s.afterCheckpoint = f }
}

// Open opens (creating if needed) the database file at path, applies every
// pending migration, prepares every query and returns the store. The
// directory must exist. ":memory:" is refused: every pooled connection
// would get its own empty database. A new database file is created 0600
// (its -wal and -shm files take that mode). Its errors are [*orgdb.Error]s:
// VALIDATION_ERROR for a bad path or option, or reason not_orgdb for
// another application's SQLite file (refused before anything touches it);
// ENCRYPTION_ERROR wrong_sealing_key when [WithSealingKey] is not the key
// the stored org API keys are sealed with (checked after migrating, since
// the record is a migration's table); with [ReadOnly], NOT_FOUND
// no_database and CONFLICT not_migrated; INTERNAL_ERROR (naming the path
// and the cause) when the file cannot be opened or migrated.
//
// On a LiteFS mount (detected, or required with [WithLiteFS]) Open asks
// LiteFS whether this node is the primary. The primary opens as above. A
// replica does not migrate and never checkpoints: it waits (up to
// [WithReplicaWait], default 30 s) until its copy carries every migration
// of this binary, else UNAVAILABLE schema_pending; a copy with a migration
// this binary lacks is CONFLICT schema_newer. Its writes fail with
// NOT_PRIMARY; its reads are served locally.
func Open(ctx context.Context, path string, opts ...Option) (_ *Store, err error) {
	if err := dbfile.CheckPath(path, "open orgdb"); err != nil {
		return nil, err
	}
	s := &Store{
		now: time.Now, inviteTTL: DefaultInviteTTL, readConns: max(2, runtime.GOMAXPROCS(0)),
		replicaWait: litefs.DefaultReplicaWait,
	}
	for _, o := range opts {
		o(s)
	}
	if s.inviteTTL <= 0 {
		return nil, orgdb.Validation("open orgdb: invite TTL %v: must be positive", s.inviteTTL)
	}
	if s.keySet && s.key.IsZero() {
		return nil, orgdb.Validation("open orgdb: WithSealingKey given the zero key; load it with seal.KeyFromEnv")
	}
	if s.readConns < 1 {
		return nil, orgdb.Validation("open orgdb: %d read connections: want at least 1", s.readConns)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			err = Translate(errors.Join(err, s.Close()), "open orgdb "+path)
		}
	}()
	if _, err := dbfile.Regular(path, "the database"); err != nil {
		return nil, err
	}
	// A LiteFS replica does not migrate: it waits for the primary's schema.
	replica, err := s.openLiteFS(ctx, path)
	if err != nil {
		return nil, err
	}
	// Checked once open, so the -wal and -shm files SQLite created count.
	// Not on LiteFS, whose modes are its own (see litefs.OnLiteFS).
	defer func() {
		if err == nil && s.litefs == nil {
			s.warnFileModes(path)
		}
	}()
	if s.readOnly {
		return s.openReadOnly(ctx, path)
	}
	// The file is checked and created as for every writer
	// (dbfile.PrepareWriter); a replica's copy is LiteFS's, checked above.
	if !replica {
		if err := dbfile.PrepareWriter(ctx, path, "open orgdb"); err != nil {
			return nil, err
		}
	} else if _, err := dbfile.Check(ctx, path); dbfile.Busy(err) {
		return nil, err
	}
	if err := s.openWriter(ctx, path, !replica); err != nil {
		return nil, err
	}
	if err := s.openReaders(ctx, path); err != nil {
		return nil, err
	}
	if s.keySet {
		if err := s.setupSealingKey(ctx); err != nil {
			return nil, err
		}
	}
	if s.external {
		return s, nil
	}
	s.ckpt = dbfile.Pool(dbfile.DSN(path), dbfile.CheckpointDriver(s.litefs != nil))
	s.ckpt.SetMaxOpenConns(1)
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.checkpoints(path + "-wal")
	return s, nil
}

// openReadOnly opens the existing, migrated database at path for reading
// only (see [ReadOnly]): one pool of read-only connections, which also
// stands in for the writer so that a write fails with SQLite's
// "attempt to write a readonly database" rather than a nil pointer.
func (s *Store) openReadOnly(ctx context.Context, path string) (*Store, error) {
	dsn, err := dbfile.ReadOnlyDSN(ctx, path, s.atRest)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, dbfile.NoDatabase(path)
	}
	if err != nil {
		return nil, err
	}
	s.readers = dbfile.Pool(dsn, dbfile.ReaderDriver(s.litefs != nil))
	s.readers.SetMaxOpenConns(s.readConns)
	s.readers.SetMaxIdleConns(s.readConns)
	switch err := schema.Verify(ctx, s.readers, schema.FS()); {
	case errors.Is(err, schema.ErrNotOrgdb):
		return nil, dbfile.NotOrgdb(path, err)
	case errors.Is(err, schema.ErrNotMigrated):
		return nil, orgdb.Conflict("the database has migrations pending").WithCause(err).
			WithInternalMessage("%s: %v", path, err).WithReason(ReasonNotMigrated)
	case err != nil:
		return nil, err
	}
	if s.rq, err = db.Prepare(ctx, s.readers); err != nil {
		return nil, err
	}
	s.writer, s.wq = s.readers, s.rq
	if s.keySet {
		if err := s.setupSealingKey(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Reasons of Open's refusals, in orgdb.Error.Reason.
const (
	ReasonNoDatabase  = "no_database"         // ReadOnly: the file does not exist
	ReasonNotOrgdb    = dbfile.ReasonNotOrgdb // not an orgdb database (dbfile.NotOrgdb)
	ReasonNotMigrated = "not_migrated"        // ReadOnly: migrations are pending
	// ReasonReadOnlyFS: INTERNAL_ERROR of an Open for writing of a database
	// on a read-only file system (a read-only mount).
	ReasonReadOnlyFS = dbfile.ReasonReadOnlyFS
)

// openWriter opens the writer connection, migrates the database and
// prepares the queries on it. Neither pool closes idle connections: a
// connection keeps the statements prepared on it.
func (s *Store) openWriter(ctx context.Context, path string, migrate bool) (err error) {
	var limit int64
	if !s.external && s.litefs == nil { // the checkpoints' policy (checkpoint.go)
		limit = journalSizeLimit
		s.gate = newWALGate(path+"-wal", s.log)
	}
	drv := dbfile.WriterDriver(s.litefs != nil, limit)
	if s.wrapWriter != nil {
		drv = s.wrapWriter(drv)
	}
	if s.gate != nil {
		drv = gatedDriver{drv: drv, gate: s.gate}
	}
	s.writer = dbfile.Pool(dbfile.DSN(path), drv)
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	// The first connection to a new file switches it to WAL, which fails at
	// once while another process does the same.
	if err := schema.RetryBusy(ctx, func() error { return s.writer.PingContext(ctx) }); err != nil {
		return err
	}
	if migrate {
		if _, err := schema.Migrate(ctx, s.writer, schema.FS()); err != nil {
			return err
		}
	}
	s.wq, err = db.Prepare(ctx, s.writer)
	return err
}

// openReaders opens the read pool and prepares the queries on it.
func (s *Store) openReaders(ctx context.Context, path string) (err error) {
	s.readers = dbfile.Pool(dbfile.ReadDSN(path), dbfile.ReaderDriver(s.litefs != nil))
	s.readers.SetMaxOpenConns(s.readConns)
	s.readers.SetMaxIdleConns(s.readConns)
	s.rq, err = db.Prepare(ctx, s.readers)
	return err
}

// Close stops the background checkpoints, runs a last PASSIVE checkpoint
// (it copies what it can and never waits for other processes' readers: the
// WAL is durable either way; neither runs with [WithExternalCheckpoints]),
// and closes the prepared statements and the
// pools. It returns what failed, as an INTERNAL_ERROR. Close is idempotent
// and safe to call concurrently: every call returns the first call's
// result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = Translate(s.close(), "close orgdb") })
	return s.closeErr
}

func (s *Store) close() error {
	var errs []error
	if s.stop != nil {
		close(s.stop)
		<-s.done
	}
	if s.ckpt != nil {
		if s.checkpointsHere() {
			if _, err := s.ckpt.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				errs = append(errs, fmt.Errorf("checkpoint: %w", err))
			}
		}
		errs = append(errs, s.ckpt.Close()) // on a replica too: no checkpoint, but the pool is ours
	}
	errs = append(errs, s.closeChanges()) // its connection is the readers'
	queries := []*db.Queries{s.rq, s.wq}
	if s.readOnly {
		queries = queries[:1]
	}
	for _, q := range queries {
		if q != nil {
			errs = append(errs, q.Close())
		}
	}
	pools := []*sql.DB{s.readers, s.writer}
	if s.readOnly {
		pools = pools[:1] // the writer is the readers
	}
	for _, d := range pools {
		if d != nil {
			errs = append(errs, d.Close())
		}
	}
	return errors.Join(errs...)
}

// DB returns the writer pool (one connection), for database/sql access
// outside the generated queries. It can read and write anything, bypassing
// every policy of the Store: it is for maintenance and tests. Do not hold
// one of its connections or transactions while calling the store's methods
// that write: they wait for that same connection. Unless the store was
// opened [WithExternalCheckpoints], the store sets its connection's busy
// timeout itself, as each statement needs it (a write waits up to 5 s for
// the lock either way): a PRAGMA busy_timeout through it lasts until the
// next statement outside a transaction.
func (s *Store) DB() *sql.DB { return s.writer }

// ReadDB returns the pool of read-only connections. Its transactions are
// deferred (BeginTx works and reads one snapshot); a write through it fails
// with "attempt to write a readonly database".
func (s *Store) ReadDB() *sql.DB { return s.readers }

// Tx runs fn in one IMMEDIATE transaction on the writer connection, for a
// sequence of writes the Store has no method for: it holds the database's
// write lock from its start, so whatever fn reads stays true until it
// commits. Use only q inside fn (the store's own methods that write would
// wait for the connection fn holds). fn's error (or a panic) rolls back;
// otherwise Tx commits.
//
// What Tx offers is the raw generated queries with the rule stated at the
// call site: by is who performs fn's writes and rule who may (AdminOnly,
// AdminOrOperator, OperatorOnly or AnyUser). The store checks the rule for
// by in this transaction before fn runs, with the function every write of
// the Store uses; what fn then writes is checked by the schema's
// constraints and triggers only, not by the rules of the Store's methods
// (accept-once, the name checks, …). Write the rule of what fn does, and apply
// the rest in fn:
//
//	err := st.Tx(ctx, store.ByUser(userID), store.AnyUser, func(q *db.Queries) error {
//		_, err := q.InsertIntegration(ctx, db.InsertIntegrationParams{UserID: userID, Scope: orgdb.ScopeUser, …})
//		return err
//	})
//
// [TxV] is the same for a function that returns a value.
//
// Errors: those of the rule (UNAUTHORIZED, FORBIDDEN; VALIDATION_ERROR for
// an unknown rule), before fn runs; an [*orgdb.Error] returned by fn is
// returned unchanged; any other error from fn, and a failure to begin or
// commit, is translated by [Translate] (sql.ErrNoRows → NOT_FOUND, a
// constraint → CONFLICT or VALIDATION_ERROR, anything else →
// INTERNAL_ERROR), keeping it in the chain. Return store.Translate(err,
// "user") from fn for a message that names what was missing.
//
// Tx is the writer's guard: on a LiteFS replica it returns NOT_PRIMARY
// (naming the primary) before fn runs, and with it every Store method that
// writes (see [Store.Role]).
func (s *Store) Tx(ctx context.Context, by Actor, rule Rule, fn func(q *db.Queries) error) error {
	_, err := TxV(ctx, s, by, rule, func(q *db.Queries) (struct{}, error) { return struct{}{}, fn(q) })
	return err
}

// ReadTx runs fn in one deferred transaction on a read-only connection:
// every read fn makes through q sees the same snapshot of the database,
// whatever the writer commits meanwhile. It never waits for the writer.
// Its statements are the ones prepared on the readers. A write through q
// fails ("attempt to write a readonly database", INTERNAL_ERROR). Reads
// name no actor: a caller that serves a read to a user checks them first
// with [Store.Authorize]. [ReadTxV] is the same for a function that
// returns a value.
//
// Errors are as for [Store.Tx].
func (s *Store) ReadTx(ctx context.Context, fn func(q *db.Queries) error) error {
	_, err := ReadTxV(ctx, s, func(q *db.Queries) (struct{}, error) { return struct{}{}, fn(q) })
	return err
}

// runTx runs fn in a transaction on pool, with q's statements bound to it,
// and returns fn's value.
func runTx[T any](ctx context.Context, pool *sql.DB, q *db.Queries, what string, fn func(q *db.Queries) (T, error)) (_ T, err error) {
	var zero T
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return zero, Translate(fmt.Errorf("begin: %w", err), what)
	}
	ended := false
	defer func() {
		if !ended { // fn panicked or called runtime.Goexit
			_ = tx.Rollback() // what matters is the panic
		}
	}()
	v, err := fn(q.WithTx(tx))
	ended = true
	if err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return zero, Translate(errors.Join(err, fmt.Errorf("rollback: %w", rerr)), what)
		}
		return zero, Translate(err, "")
	}
	if err := tx.Commit(); err != nil {
		return zero, Translate(fmt.Errorf("commit: %w", err), what)
	}
	return v, nil
}

// Now returns the store's clock reading as a database timestamp.
func (s *Store) Now() orgdb.Time { return orgdb.NewTime(s.now()) }
