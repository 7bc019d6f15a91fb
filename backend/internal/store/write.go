package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// WriteOne runs fn, whose one statement is a whole write (CreateTask, UpdateTask, DeleteTask,
// CreateUser…), in one round trip, with the promise a transaction gives: when the caller's
// deadline passes, the write has not happened.
//
// The statement goes with a statement_timeout that ends a little before ctx's deadline, as one
// implicit transaction (committed at the pipeline's Sync). A statement still waiting when the
// timeout fires (on a lock, say) is cancelled by PostgreSQL itself and rolls back, so a 503 is
// never a write; one that finishes has committed before the deadline, and its answer is read
// within the margin left. An explicit BEGIN … COMMIT would promise the same at the cost of a
// second round trip, during which the rows it wrote stay locked (one user's creates queue on
// their task counter for that long).
//
// Once sent, the statement is no longer cut short by ctx's cancellation (the client going
// away), only by the deadline: the server then knows whether it wrote.
func (s *Store) WriteOne(ctx context.Context, fn func(st *Store) error) error {
	w := &oneWrite{pool: s.pool}
	return fn(&Store{db: w, pool: s.pool})
}

// Deadline margins: the statement's timeout leaves a fifth of the time left, within these
// bounds, for its answer to come back before the caller gives up.
const (
	minWriteMargin = 50 * time.Millisecond
	maxWriteMargin = 500 * time.Millisecond
)

// statementBudget is how long a statement sent now may run so that its answer arrives before
// the deadline.
func statementBudget(ctx context.Context) (time.Duration, time.Time) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(fallbackDeadline)
	}
	left := time.Until(dl)
	margin := min(max(left/5, minWriteMargin), maxWriteMargin)
	return left - margin, dl
}

// errOneStatement guards the contract of WriteOne: a second statement would be a second
// transaction, and the write would no longer be atomic.
var errOneStatement = errors.New("store: WriteOne runs exactly one statement")

// oneWrite is the DB of WriteOne: it takes one statement.
type oneWrite struct {
	pool *pgxpool.Pool
	used bool
}

// send acquires a connection (waiting is bounded by ctx) and sends the statement behind its
// timeout. The caller reads the statement's result from the returned batch and then calls
// finish.
func (w *oneWrite) send(ctx context.Context, sql string, args []any) (*pgxpool.Conn, pgx.BatchResults, error) {
	if w.used {
		return nil, nil, errOneStatement
	}
	w.used = true
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("acquire: %w", err)
	}
	budget, dl := statementBudget(ctx)
	if budget <= 0 {
		conn.Release()
		return nil, nil, context.DeadlineExceeded
	}
	sendCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), dl)
	b := &pgx.Batch{}
	// statement_timeout in milliseconds, rounded up so it is never 0 ("no timeout").
	b.Queue("SELECT set_config('statement_timeout', $1, true)", strconv.FormatInt(max(budget.Milliseconds(), 1), 10))
	b.Queue(sql, args...)
	br := conn.SendBatch(sendCtx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		cancel()
		conn.Release()
		return nil, nil, err
	}
	return conn, &cancelOnClose{BatchResults: br, cancel: cancel}, nil
}

// cancelOnClose ends the statement's context with the batch.
type cancelOnClose struct {
	pgx.BatchResults
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	defer c.cancel()
	return c.BatchResults.Close()
}

func (w *oneWrite) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	conn, br, err := w.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer conn.Release()
	tag, err := br.Exec()
	// Close reads up to the Sync, where the implicit transaction commits (or reports why not).
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (w *oneWrite) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	conn, br, err := w.send(ctx, sql, args)
	if err != nil {
		return &lazyRow{err: err}
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		conn.Release()
		return &lazyRow{err: err}
	}
	return &lazyRow{rows: &releasingRows{batchRows: batchRows{Rows: rows, br: br}, conn: conn}}
}

// Query is not a write's: WriteOne's statements answer one row at most.
func (w *oneWrite) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return nil, errOneStatement
}

// SendBatch is not a write's either: a batch is several statements.
func (w *oneWrite) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults {
	return errBatch{err: errOneStatement}
}

// releasingRows gives the connection back once the rows and their batch are closed.
type releasingRows struct {
	batchRows
	conn *pgxpool.Conn
}

func (r *releasingRows) Close() {
	if r.closed {
		return
	}
	r.batchRows.Close()
	r.conn.Release()
}

// errBatch answers every result of a batch with err.
type errBatch struct {
	pgx.BatchResults // nil: only the methods below are ever called
	err              error
}

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return &lazyRow{err: b.err} }
func (b errBatch) Close() error                     { return b.err }
