package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agentops/orgdb/schema"
)

// gatedDriver opens the writer's connections behind the WAL's gate
// (checkpoint.go) when the store checkpoints (not
// [WithExternalCheckpoints], not on LiteFS): every transaction the writer
// begins, and every statement it executes outside one, passes the gate
// first.
type gatedDriver struct {
	drv  driver.Driver
	gate *walGate
}

// Open opens a connection behind the gate.
func (d gatedDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.drv.Open(dsn)
	if err != nil {
		return nil, err
	}
	wc, ok := c.(writerConn)
	if !ok {
		return nil, errors.Join(fmt.Errorf("open the writer: connection is %T, want go-sqlite3's", c), c.Close())
	}
	return &gatedConn{writerConn: wc, gate: d.gate, timeout: unknownTimeout}, nil
}

// writerConn is what the gate needs of a writer connection, and what
// database/sql uses of go-sqlite3's (a *sqlite3.SQLiteConn, or a test's
// wrapper of one).
type writerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	AutoCommit() bool
}

// gatedConn is a writer connection behind the WAL's gate. Only the ways
// to start a write are overridden.
type gatedConn struct {
	writerConn
	gate *walGate
	// timeout is the busy timeout set on the connection: 0 while it polls
	// for the write lock and in the transaction that then holds it (no
	// statement there waits for a lock), the store's for a statement that
	// waits in SQLite's handler. waitsAs sets it only when the other was
	// set last, so a write transaction after another, all a store's writes
	// are, costs no PRAGMA (each had cost two: 6 allocations and the
	// UpdateUserRole, CreateInvite and SetOrgAPIKey floor ratios, bench).
	timeout time.Duration
}

// unknownTimeout is gatedConn.timeout when the connection's busy timeout
// is not known: opened, after a checkpoint set its own, after a statement
// that names busy_timeout, or after a failed PRAGMA.
const unknownTimeout time.Duration = -1

// waitsAs sets the connection's busy timeout to d unless it is set
// already.
func (c *gatedConn) waitsAs(ctx context.Context, d time.Duration) error {
	if c.timeout == d {
		return nil
	}
	c.timeout = unknownTimeout
	if _, err := c.writerConn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, d.Milliseconds()), nil); err != nil {
		return fmt.Errorf("set the busy timeout: %w", err)
	}
	c.timeout = d
	return nil
}

// ran notes that query ran on the connection: one that names
// busy_timeout (a PRAGMA through [Store.DB]) leaves the timeout unknown.
func (c *gatedConn) ran(query string) {
	if namesBusyTimeout(query) {
		c.timeout = unknownTimeout
	}
}

// namesBusyTimeout reports whether query contains "busy_timeout" in any
// case, without allocating (it is asked of every statement).
func namesBusyTimeout(query string) bool {
	const k = "busy_timeout"
	for i := strings.IndexAny(query, "bB"); i >= 0 && i+len(k) <= len(query); {
		if strings.EqualFold(query[i:i+len(k)], k) {
			return true
		}
		j := strings.IndexAny(query[i+1:], "bB")
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// BeginTx begins the transaction (IMMEDIATE: it holds the write lock),
// then looks at the WAL's size. Past walGateBytes it rolls back, lets
// the gate checkpoint the WAL and begins again. Looking with the write
// lock held, no other writer can add frames between the look and this
// transaction's commit: the WAL ends at most one transaction past the
// threshold.
func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	for {
		tx, err := c.begin(ctx, opts)
		if err != nil || !c.gate.closed() {
			return tx, err
		}
		if err := tx.Rollback(); err != nil {
			return nil, fmt.Errorf("WAL gate: roll back to checkpoint: %w", err)
		}
		err = c.gate.pass(ctx, c.writerConn)
		c.timeout = unknownTimeout // the checkpoints set their own
		if err != nil {
			return nil, err
		}
		if !c.gate.closed() {
			continue
		}
		return c.begin(ctx, opts) // the gate gave up: write on
	}
}

// beginPoll is how often a writer waiting for the write lock tries again.
const beginPoll = time.Millisecond

// begin begins the transaction, waiting for the write lock up to the
// store's busy timeout, as SQLite's busy handler would, but trying again
// every beginPoll. SQLite's handler sleeps 100 ms between tries once it
// has waited a third of a second, and the lock is free only for the
// moments between one writer's commit and its next BEGIN: with four
// processes writing back to back, a writer that had missed a few tries
// kept missing (1–5 s measured, some past the 5 s timeout, "database is
// locked"), with or without strong checkpoints. The busy timeout is 0
// while it tries, and stays 0 in the transaction.
func (c *gatedConn) begin(ctx context.Context, opts driver.TxOptions) (tx driver.Tx, err error) {
	err = c.polling(ctx, "begin", func() (err error) {
		tx, err = c.writerConn.BeginTx(ctx, opts)
		return err
	})
	return tx, err
}

// polling runs try, which takes the write lock, again every beginPoll
// while it fails with SQLITE_BUSY, up to the store's busy timeout, with
// SQLite's own busy timeout 0 (left so after). try must leave nothing
// changed when it fails with SQLITE_BUSY.
func (c *gatedConn) polling(ctx context.Context, what string, try func() error) error {
	if err := c.waitsAs(ctx, 0); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return schema.RetryBusyEvery(ctx, beginPoll, try)
}

// Begin is BeginTx without a context.
func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// ExecContext passes the gate first when it runs outside a transaction
// (its statement may write); the WAL's size is looked at before the
// statement takes the write lock. Outside a transaction, a single
// statement waits for the write lock as begin does (trying every
// beginPoll): with SQLite's handler it could wait past the busy timeout
// beside writers that poll (a test saw "database is locked"). A statement
// that fails with SQLITE_BUSY outside a transaction changed nothing, so it
// is tried again; a text of several statements is not (the first may have
// committed), and waits with SQLite's handler.
func (c *gatedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (res driver.Result, err error) {
	defer c.ran(query)
	if !c.AutoCommit() {
		return c.writerConn.ExecContext(ctx, query, args)
	}
	if c.gate.closed() {
		err := c.gate.pass(ctx, c.writerConn)
		c.timeout = unknownTimeout // the checkpoints set their own
		if err != nil {
			return nil, err
		}
	}
	if !oneStatement(query) {
		if err := c.waitsAs(ctx, schema.BusyTimeout); err != nil {
			return nil, fmt.Errorf("exec: %w", err)
		}
		return c.writerConn.ExecContext(ctx, query, args)
	}
	err = c.polling(ctx, "exec", func() (err error) {
		res, err = c.writerConn.ExecContext(ctx, query, args)
		return err
	})
	return res, err
}

// QueryContext runs query; outside a transaction it waits for a lock it
// needs (a write with RETURNING) in SQLite's handler, for the store's busy
// timeout, as before the gate: its SQLITE_BUSY may come with the first
// row, where it cannot be tried again.
func (c *gatedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	defer c.ran(query)
	if c.AutoCommit() {
		if err := c.waitsAs(ctx, schema.BusyTimeout); err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
	}
	return c.writerConn.QueryContext(ctx, query, args)
}

// PrepareContext prepares query; its statement, run outside a
// transaction, waits for a lock as QueryContext does.
func (c *gatedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.writerConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs, ok := st.(ctxStmt)
	if !ok {
		return st, nil // a test's driver: nothing to set
	}
	return &gatedStmt{ctxStmt: cs, c: c, busy: namesBusyTimeout(query)}, nil
}

// Prepare is PrepareContext without a context.
func (c *gatedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// ctxStmt is what database/sql uses of go-sqlite3's statements.
type ctxStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// gatedStmt is a statement prepared on a gatedConn: outside a
// transaction it runs with the store's busy timeout.
type gatedStmt struct {
	ctxStmt
	c    *gatedConn
	busy bool // its text names busy_timeout
}

// ready sets the store's busy timeout outside a transaction, and forgets
// it if the statement may set its own.
func (s *gatedStmt) ready(ctx context.Context) error {
	var err error
	if s.c.AutoCommit() {
		err = s.c.waitsAs(ctx, schema.BusyTimeout)
	}
	if s.busy {
		s.c.timeout = unknownTimeout
	}
	return err
}

// ExecContext runs the statement.
func (s *gatedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.ready(ctx); err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	return s.ctxStmt.ExecContext(ctx, args)
}

// QueryContext runs the statement.
func (s *gatedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.ready(ctx); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return s.ctxStmt.QueryContext(ctx, args)
}

// oneStatement reports whether query is surely one statement: no
// semicolon but, perhaps, a last one. A semicolon inside a literal or a
// comment makes it answer false, which only means SQLite's own wait.
func oneStatement(query string) bool {
	q := strings.TrimRight(query, " \t\r\n")
	q = strings.TrimSuffix(q, ";")
	return !strings.Contains(q, ";")
}

// Exec is ExecContext without a context.
func (c *gatedConn) Exec(query string, args []driver.Value) (driver.Result, error) {
	named := make([]driver.NamedValue, len(args))
	for i, v := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return c.ExecContext(context.Background(), query, named)
}
