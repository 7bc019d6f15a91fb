package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Tx is a Store bound to one transaction. Its BEGIN travels with its first statement that
// writes or locks (and a key claim queued before it, QueueClaim), in one pipeline: every write
// and every chat turn costs one round trip fewer than BEGIN on its own.
// Commit sends COMMIT on its own, once the statements' results are in: a statement that never
// answered (deadline, lost connection) finds no COMMIT and rolls back. CommitWith sends it
// with the last statement instead, under a timeout that gives the same promise.
//
// Task reads before the first write (ListTasks, GetTask, TaskIDByNumber) run on the
// transaction's connection as statements of their own. Under READ COMMITTED, PostgreSQL's
// default and ours, a statement sees what was committed before it started either way; and a
// chat turn that only reads then writes nothing but its saved turn, which CommitWith sends as
// one implicit transaction: PostgreSQL runs neither BEGIN nor COMMIT for it. A locking read
// (Messages) begins the transaction, so its lock lasts to the end.
type Tx struct {
	*Store
	tx *lazyTx
}

// reads is where a task read runs: the transaction once it has begun (or when a queued claim
// is waiting for a statement to carry it), else the connection. Only the transaction's own
// statements: the last one, in CommitWith, keeps its one-write rule.
func (t *Tx) reads() *Store {
	if t.db != DB(t.tx) || t.tx.begun || t.tx.conn == nil || t.tx.ahead != nil {
		return t.Store
	}
	return &Store{db: t.tx.conn, session: t.session}
}

// ListTasks is Store.ListTasks; see Tx for where it runs. The read QueueList sent answers it
// when it is that read and no statement has run since the one that carried it.
func (t *Tx) ListTasks(ctx context.Context, userID int64, status string) ([]Task, error) {
	if tasks, ok := t.tx.takeList(userID, status); ok {
		return tasks, nil
	}
	return t.reads().ListTasks(ctx, userID, status)
}

// QueueList sends userID's task list (ListTasks with status) with the transaction's next
// statement, ahead of it in the same round trip, for a read the caller expects to make right
// after that statement: a chat turn's list, with its history. Under READ COMMITTED the answer is
// what a read of its own would have seen then; any statement after the carrier makes it stale,
// and ListTasks then reads again. Nothing is queued once the transaction has begun.
func (t *Tx) QueueList(userID int64, status string) {
	if lt := t.tx; t.db == DB(lt) && !lt.begun && lt.conn != nil {
		lt.list = &queuedList{userID: userID, status: status}
	}
}

// GetTask is Store.GetTask; see Tx for where it runs.
func (t *Tx) GetTask(ctx context.Context, userID, id int64) (Task, error) {
	return t.reads().GetTask(ctx, userID, id)
}

// TaskIDByNumber is Store.TaskIDByNumber; see Tx for where it runs.
func (t *Tx) TaskIDByNumber(ctx context.Context, userID, number int64) (int64, error) {
	return t.reads().TaskIDByNumber(ctx, userID, number)
}

// Begin takes a connection for a transaction; ctx bounds only that wait (each query takes its
// own context).
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	lt := &lazyTx{conn: conn}
	return &Tx{Store: &Store{db: lt, session: s.session}, tx: lt}, nil
}

// Commit commits the transaction (nothing to do if no statement ran, or if CommitWith did)
// and gives the connection back.
func (t *Tx) Commit(ctx context.Context) error {
	lt := t.tx
	if lt.committed { // by CommitWith
		return nil
	}
	if lt.conn == nil {
		return fmt.Errorf("commit: %w", pgx.ErrTxClosed)
	}
	defer lt.release()
	if !lt.begun {
		return nil
	}
	tag, err := lt.conn.Exec(ctx, "COMMIT")
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if tag.String() == "ROLLBACK" { // a statement of the transaction had failed
		return fmt.Errorf("commit: %w", pgx.ErrTxCommitRollback)
	}
	return nil
}

// Rollback ends the transaction if it is still open (safe after Commit).
func (t *Tx) Rollback(ctx context.Context) {
	lt := t.tx
	if lt.conn == nil {
		return
	}
	if lt.begun {
		// On failure the pool closes the connection, which ends the transaction too: it
		// never takes back a connection still inside one.
		_, _ = lt.conn.Exec(ctx, "ROLLBACK")
	}
	lt.release()
}

// InTx runs fn in one transaction: committed if fn returns nil, rolled back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// lazyTx is the DB of a Tx: a pool connection that sends BEGIN in front of the first
// statement, and a claim queued by QueueClaim and a list by QueueList between the two.
type lazyTx struct {
	conn      *pgxpool.Conn // nil once committed or rolled back
	begun     bool
	committed bool
	ahead     *Claim      // queued, not sent yet
	list      *queuedList // queued, or answered and not yet stale
}

// queuedList is QueueList's read.
type queuedList struct {
	userID int64
	status string
	sent   bool // its answer is in tasks
	tasks  []Task
}

// takeList returns the answer of the list read sent ahead if it is userID's with status. Taken
// or not, it is gone: a read that ran in its place is the newer answer.
func (lt *lazyTx) takeList(userID int64, status string) ([]Task, bool) {
	l := lt.list
	lt.list = nil
	if l == nil || !l.sent || l.userID != userID || l.status != status {
		return nil, false
	}
	return l.tasks, true
}

// next is called before each statement: an answered list read is stale from then on.
func (lt *lazyTx) next() {
	if lt.list != nil && lt.list.sent {
		lt.list = nil
	}
}

func (lt *lazyTx) release() {
	lt.conn.Release()
	lt.conn = nil
}

// first sends BEGIN, the queued claim and list if any, and the first statement together, and
// reads the results before the statement's. If BEGIN failed, nothing of the batch reached
// PostgreSQL (its deadline had passed, an argument could not be encoded) or the connection is
// gone: the next statement must carry BEGIN again.
func (lt *lazyTx) first(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	c := lt.ahead
	if c != nil {
		lt.ahead = nil
		b.Queue(claimSQL, c.args()...)
	}
	l := lt.list
	if l != nil {
		ls, la := listQuery(l.userID, l.status)
		b.Queue(ls, la...)
	}
	b.Queue(sql, args...)
	br := lt.conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		lt.list = nil
		if c != nil {
			// The claim fails with its batch: Outcome gives this error (a client gone, a
			// deadline) instead of sending the claim again on a connection pgx may have closed.
			c.settle(pgconn.CommandTag{}, err)
		}
		return nil, err
	}
	lt.begun = true
	if c != nil {
		c.settle(br.Exec())
	}
	if l != nil {
		rows, err := br.Query()
		if err == nil {
			l.tasks, err = collectTasks(rows)
		}
		if err != nil { // the transaction is aborted: the statement fails too
			lt.list = nil
			_ = br.Close()
			return nil, err
		}
		l.sent = true
	}
	return br, nil
}

func (lt *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	lt.next()
	if lt.begun {
		return lt.conn.Exec(ctx, sql, args...)
	}
	br, err := lt.first(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (lt *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	lt.next()
	if lt.begun {
		return lt.conn.Query(ctx, sql, args...)
	}
	br, err := lt.first(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (lt *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := lt.Query(ctx, sql, args...)
	return &lazyRow{rows: rows, err: err}
}

// SendBatch runs b in the transaction; BEGIN (and a queued claim) goes first on its own (no
// query of ours sends a batch inside a transaction).
func (lt *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	lt.next()
	if c := lt.ahead; c != nil {
		c.send(ctx) // with BEGIN
	}
	if !lt.begun {
		if _, err := lt.conn.Exec(ctx, "BEGIN"); err == nil {
			lt.begun = true
		}
	}
	return lt.conn.SendBatch(ctx, b)
}

// batchRows are the rows of a statement sent with BEGIN: closing them also ends the batch.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// lazyRow is QueryRow's answer: pgx's own single-row rules (ErrNoRows, the first row only).
type lazyRow struct {
	rows pgx.Rows
	err  error
}

func (r *lazyRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		r.rows.Close()
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
