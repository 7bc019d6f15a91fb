package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// WriteOne runs fn, whose one statement is a whole write (CreateTask, UpdateTask, DeleteTask,
// CreateUser…), in one round trip, with the promise a transaction gives: when the caller's
// deadline passes, the write has not happened.
//
// The statement goes with a statement_timeout that ends a little before ctx's deadline (or
// under the connection's own, when that ends sooner), as one implicit transaction (committed at
// the pipeline's Sync). A statement still waiting when the timeout fires (on a lock, say) is
// cancelled by PostgreSQL itself and rolls back, so a 503 is never a write; one that finishes has committed before the deadline, and its answer is read
// within the margin left. An explicit BEGIN … COMMIT would promise the same at the cost of a
// second round trip, during which the rows it wrote stay locked (one user's creates queue on
// their task counter for that long).
//
// Once sent, the statement is no longer cut short by ctx's cancellation (the client going
// away), only by the deadline: the server then knows whether it wrote.
//
// At most writeSlots of these writes are in PostgreSQL at once; the others wait here, in
// order, bounded by ctx.
func (s *Store) WriteOne(ctx context.Context, fn func(st *Store) error) error {
	if s.writes == nil {
		return errors.New("store: WriteOne in a transaction (use Tx.CommitWith)")
	}
	select {
	case s.writes <- struct{}{}:
		defer func() { <-s.writes }()
	case <-ctx.Done():
		return fmt.Errorf("wait for a write slot: %w", ctx.Err())
	}
	w := &lastWrite{
		conn:    func(ctx context.Context) (*pgxpool.Conn, error) { return s.pool.Acquire(ctx) },
		done:    func(conn *pgxpool.Conn, _ error) { conn.Release() },
		session: s.session,
	}
	return fn(&Store{db: w, pool: s.pool, session: s.session})
}

// CommitWith runs fn's one statement as the transaction's last and commits, both in one round
// trip, on WriteOne's terms: behind a statement_timeout that ends a margin before ctx's
// deadline, so a transaction whose last statement is still waiting then rolls back. COMMIT is
// on its way with the statement, so the statement must fail, not come back empty, when the
// transaction must not commit. On failure the transaction is still open (Rollback ends it).
// A transaction that wrote nothing before sends the statement alone, as WriteOne does: an
// implicit transaction is as atomic, and PostgreSQL runs two statements fewer.
func (t *Tx) CommitWith(ctx context.Context, fn func(last *Tx) error) error {
	lt := t.tx
	if lt.conn == nil {
		return fmt.Errorf("commit: %w", pgx.ErrTxClosed)
	}
	w := &lastWrite{
		conn:    func(context.Context) (*pgxpool.Conn, error) { return lt.conn, nil },
		commit:  lt.begun,
		session: t.session,
		done: func(_ *pgxpool.Conn, err error) {
			if err == nil {
				lt.committed = true
				lt.release()
			}
		},
	}
	if err := fn(&Tx{Store: &Store{db: w, pool: t.pool, session: t.session}, tx: lt}); err != nil {
		return err
	}
	if !w.used {
		return t.Commit(ctx)
	}
	return nil
}

// writeSlots bounds the single writes in PostgreSQL at once to half the pool (the other half
// stays for reads, logins and chat turns). Writes contend there on shared things (the WAL,
// the tables' newest index pages, one user's task counter); beyond a few at once they only
// queue inside PostgreSQL, on its locks, where one holder the CPU scheduler preempts stalls
// all the others: with a build running next to it, 8 writers at once had a p99 of 26–77 ms,
// 4 had 12–19 ms. Here they queue without holding anything, in arrival order.
func writeSlots(cfg *pgxpool.Config) int {
	return int(max(1, cfg.MaxConns/2))
}

// Deadline margins: the statement's timeout leaves a fifth of the time left, within these
// bounds, for its answer to come back before the caller gives up.
const (
	minWriteMargin = 50 * time.Millisecond
	maxWriteMargin = 500 * time.Millisecond
)

// sessionTimeout is the statement_timeout a pool's connections start with, as set in its
// configuration (DATABASE_URL, or what the server sets from REQUEST_TIMEOUT); 0 when it is not
// set there, is 0 (none), or does not parse: then every last write sets its own.
func sessionTimeout(cfg *pgxpool.Config) time.Duration {
	return parseTimeout(cfg.ConnConfig.RuntimeParams["statement_timeout"])
}

// parseTimeout reads a PostgreSQL time setting: a number of milliseconds, or a number with a
// unit (us, ms, s, min, h, d).
func parseTimeout(v string) time.Duration {
	v = strings.TrimSpace(v)
	i := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := v, "ms"
	if i >= 0 {
		num, unit = v[:i], strings.TrimSpace(v[i:])
	}
	n, err := strconv.ParseFloat(num, 64)
	per, ok := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second,
		"min": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[unit]
	if err != nil || !ok || n <= 0 {
		return 0
	}
	return time.Duration(n * float64(per))
}

// writeMargin is the margin a statement leaves when time is left before its deadline.
func writeMargin(left time.Duration) time.Duration {
	return min(max(left/5, minWriteMargin), maxWriteMargin)
}

// statementBudget is how long a statement sent now may run so that its answer arrives before
// the deadline.
func statementBudget(ctx context.Context) (time.Duration, time.Time) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(fallbackDeadline)
	}
	left := time.Until(dl)
	return left - writeMargin(left), dl
}

// StatementTimeout is the statement_timeout for the connections of requests with the deadline
// requestTimeout: it ends two margins before that deadline, so a statement of the request ends
// in time for its answer, and a write sent in the request's first margin (the usual case) is
// bounded by it alone and sends no timeout of its own. At least half of requestTimeout.
func StatementTimeout(requestTimeout time.Duration) time.Duration {
	return max(requestTimeout-2*writeMargin(requestTimeout), requestTimeout/2)
}

// errOneStatement guards the contract of WriteOne and CommitWith: a second statement would
// not be covered by the commit, and the write would no longer be atomic.
var errOneStatement = errors.New("store: a last write runs exactly one statement")

// lastWrite is the DB of WriteOne and CommitWith: it takes one statement and sends it behind
// its timeout, with COMMIT after it when it ends a transaction that has begun.
type lastWrite struct {
	conn    func(ctx context.Context) (*pgxpool.Conn, error)
	commit  bool
	done    func(*pgxpool.Conn, error) // everything is read; err is the outcome
	session time.Duration              // the connection's own statement_timeout (0: none known)
	used    bool
	// ahead is a key's claim sent before the statement, in its transaction (CreateKeyedTask).
	ahead *Claim
}

// send sends the statement (waiting for a connection is bounded by ctx) and reads up to its
// result; the caller reads that result and then closes the returned batch.
func (w *lastWrite) send(ctx context.Context, sql string, args []any) (*lastBatch, error) {
	if w.used {
		return nil, errOneStatement
	}
	w.used = true
	conn, err := w.conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire: %w", err)
	}
	budget, dl := statementBudget(ctx)
	if budget <= 0 {
		w.done(conn, context.DeadlineExceeded)
		return nil, context.DeadlineExceeded
	}
	sendCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), dl)
	b := &pgx.Batch{}
	// statement_timeout in milliseconds, rounded up so it is never 0 ("no timeout"); local to
	// the transaction, explicit or implicit. A connection whose own timeout ends first needs
	// none (a chat turn's deadline is minutes away): one statement fewer for PostgreSQL.
	timeout := w.session <= 0 || budget < w.session
	if timeout {
		b.Queue("SELECT set_config('statement_timeout', $1, true)", strconv.FormatInt(max(budget.Milliseconds(), 1), 10))
	}
	if w.ahead != nil {
		b.Queue(claimSQL, w.ahead.args()...)
	}
	b.Queue(sql, args...)
	if w.commit {
		b.Queue("COMMIT")
	}
	lb := &lastBatch{BatchResults: conn.SendBatch(sendCtx, b), w: w, conn: conn, cancel: cancel}
	if timeout {
		if _, err := lb.BatchResults.Exec(); err != nil {
			if w.ahead != nil { // skipped with the rest
				w.ahead.settle(pgconn.CommandTag{}, err)
			}
			return nil, lb.fail(err)
		}
	}
	if w.ahead != nil {
		tag, err := lb.BatchResults.Exec()
		w.ahead.settle(tag, err)
		if err != nil {
			return nil, lb.fail(err)
		}
	}
	return lb, nil
}

// lastBatch is the batch of a last write. Closing it reads the rest: COMMIT, or the Sync where
// an implicit transaction commits.
type lastBatch struct {
	pgx.BatchResults
	w      *lastWrite
	conn   *pgxpool.Conn
	cancel context.CancelFunc
	closed bool
	err    error
}

func (b *lastBatch) fail(err error) error {
	b.err = err
	_ = b.Close()
	return err
}

func (b *lastBatch) Close() error {
	if b.closed {
		return b.err
	}
	b.closed = true
	defer b.cancel()
	if b.w.commit && b.err == nil {
		tag, err := b.BatchResults.Exec()
		if err == nil && tag.String() == "ROLLBACK" { // a statement of the transaction had failed
			err = pgx.ErrTxCommitRollback
		}
		if err != nil {
			b.err = fmt.Errorf("commit: %w", err)
		}
	}
	if err := b.BatchResults.Close(); b.err == nil {
		b.err = err
	}
	b.w.done(b.conn, b.err)
	return b.err
}

func (w *lastWrite) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	b, err := w.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := b.Exec()
	if err != nil {
		b.err = err
	}
	return tag, b.Close()
}

func (w *lastWrite) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	b, err := w.send(ctx, sql, args)
	if err != nil {
		return &lazyRow{err: err}
	}
	rows, err := b.Query()
	if err != nil {
		return &lazyRow{err: b.fail(err)}
	}
	return &lazyRow{rows: &batchRows{Rows: rows, br: b}}
}

// Query is not a write's: a last write answers one row at most.
func (w *lastWrite) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return nil, errOneStatement
}

// SendBatch is not a write's either: a batch is several statements.
func (w *lastWrite) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults {
	return errBatch{err: errOneStatement}
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
