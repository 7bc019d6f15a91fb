package store_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

// titles lists uid's task titles in order.
func titles(t *testing.T, st *store.Store, uid int64) []string {
	t.Helper()
	tasks, err := st.ListTasks(context.Background(), uid, store.StatusAll)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, task := range tasks {
		out = append(out, task.Title)
	}
	return out
}

// A transaction's statements, the first one (which carries BEGIN) included, commit together or
// not at all.
func TestTransactionStatementsCommitTogetherOrNotAtAll(t *testing.T) {
	ctx := context.Background()
	st := store.New(testdb.Pool(t))
	uid := newUser(t, st, "tx", 0)
	errUndo := errors.New("changed my mind")
	err := st.InTx(ctx, func(tx *store.Tx) error {
		for _, title := range []string{"first", "second"} {
			if _, err := tx.CreateTask(ctx, uid, title, ""); err != nil {
				return err
			}
		}
		if got := titles(t, tx.Store, uid); len(got) != 2 {
			t.Errorf("inside the transaction: %v, want both tasks", got)
		}
		return errUndo
	})
	if !errors.Is(err, errUndo) {
		t.Fatalf("InTx: %v", err)
	}
	if got := titles(t, st, uid); len(got) != 0 {
		t.Fatalf("after a rollback: %v, want no task", got)
	}
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.CreateTask(ctx, uid, "kept", "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := titles(t, st, uid); len(got) != 1 || got[0] != "kept" {
		t.Fatalf("after a commit: %v, want [kept]", got)
	}
	tasks, _ := st.ListTasks(ctx, uid, store.StatusAll)
	if tasks[0].Number != 1 {
		t.Errorf("the rolled-back tasks kept their numbers: the kept task is #%d, want #1", tasks[0].Number)
	}
}

// A first statement that was never sent (its deadline had passed) leaves the transaction
// open for the next: what follows still commits or rolls back as one.
func TestAStatementThatWasNeverSentLeavesTheTransactionWhole(t *testing.T) {
	ctx := context.Background()
	st := store.New(testdb.Pool(t))
	uid := newUser(t, st, "unsent", 0)
	tx := begin(t, st)
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := tx.CreateTask(expired, uid, "never sent", ""); err == nil {
		t.Fatal("CreateTask past its deadline succeeded")
	}
	if _, err := tx.CreateTask(ctx, uid, "rolled back", ""); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(ctx)
	if got := titles(t, st, uid); len(got) != 0 {
		t.Errorf("after the rollback: %v, want no task", got)
	}
}

// Reads in a transaction keep pgx's single-row rules: a missing row is ErrNotFound whether or
// not the read is the transaction's first statement.
func TestReadsInATransactionFindMissingRowsMissing(t *testing.T) {
	ctx := context.Background()
	st := store.New(testdb.Pool(t))
	uid := newUser(t, st, "missing", 1)
	err := st.InTx(ctx, func(tx *store.Tx) error {
		for range 2 {
			if _, err := tx.GetTask(ctx, uid, 1<<40); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetTask of a missing id: %v, want ErrNotFound", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A transaction that ran nothing commits without a round trip's worth of work and gives its
// connection back.
func TestAnEmptyTransactionGivesItsConnectionBack(t *testing.T) {
	ctx := context.Background()
	pool := onePool(t)
	st := store.New(pool)
	for range 3 {
		if err := st.InTx(ctx, func(*store.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := pool.Stat().AcquiredConns(); n != 0 {
		t.Errorf("%d connections still held after empty transactions", n)
	}
}

// sqlLog records the SQL of every statement a pool's connections send, batched or not, by
// round trip: a statement of its own, or a batch.
type sqlLog struct {
	mu    sync.Mutex
	trips [][]string
}

// add records sql's first word, in a round trip of its own when trip is set.
func (l *sqlLog) add(sql string, trip bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if trip || len(l.trips) == 0 {
		l.trips = append(l.trips, nil)
	}
	if sql != "" {
		l.trips[len(l.trips)-1] = append(l.trips[len(l.trips)-1], strings.Fields(sql)[0])
	}
}

// takeTrips returns the first word of each statement sent since the last take, by round trip.
func (l *sqlLog) takeTrips() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.trips
	l.trips = nil
	return out
}

// take returns the first word of each statement sent since the last take.
func (l *sqlLog) take() []string {
	return slices.Concat(l.takeTrips()...)
}

func (l *sqlLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.add(d.SQL, true)
	return ctx
}
func (l *sqlLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (l *sqlLog) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	l.add("", true)
	return ctx
}
func (l *sqlLog) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	l.add(d.SQL, false)
}
func (l *sqlLog) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// tracedPool is a pool of one connection whose statements log records. Its connections start
// with the server's statement_timeout, so a last write needs none of its own.
func tracedPool(t *testing.T) (*pgxpool.Pool, *sqlLog) {
	t.Helper()
	log := &sqlLog{}
	return configuredPool(t, 1, func(pc *pgxpool.Config) {
		pc.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(store.StatementTimeout(10*time.Second).Milliseconds(), 10)
		pc.ConnConfig.Tracer = log
	}), log
}

// A chat turn that only reads before saving itself costs PostgreSQL no BEGIN and no COMMIT: its
// reads are statements of their own and the saved turn an implicit transaction, committed. A
// turn that writes sends BEGIN with its first write, and its reads after it see that write.
func TestATransactionBeginsAtItsFirstWrite(t *testing.T) {
	ctx := context.Background()
	pool, log := tracedPool(t)
	st := store.New(pool)
	uid := newUser(t, st, "reads-first", 2)
	turn := []store.Message{{Role: "user", Content: "what's left?"}, {Role: "assistant", Content: "two tasks"}}

	tx := begin(t, st)
	defer tx.Rollback(ctx)
	log.take()
	tasks, err := tx.ListTasks(ctx, uid, store.StatusAll)
	if err != nil || len(tasks) != 2 {
		t.Fatalf("ListTasks: %v, %d tasks, want 2", err, len(tasks))
	}
	if _, err := tx.GetTask(ctx, uid, tasks[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.TaskIDByNumber(ctx, uid, 2); err != nil {
		t.Fatal(err)
	}
	var conv int64
	if err := tx.CommitWith(ctx, func(last *store.Tx) (err error) {
		conv, _, err = last.SaveTurn(ctx, uid, 0, "t", turn)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); !slices.Equal(got, []string{"SELECT", "SELECT", "SELECT", "WITH"}) {
		t.Errorf("a turn that only reads sent %v, want its three reads and the saved turn alone", got)
	}
	if msgs, err := st.Messages(ctx, uid, conv, 10); err != nil || len(msgs) != 2 {
		t.Errorf("the saved turn: %v, %d messages, want 2", err, len(msgs))
	}

	tx = begin(t, st)
	defer tx.Rollback(ctx)
	log.take()
	if _, err := tx.ListTasks(ctx, uid, store.StatusAll); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.CreateTask(ctx, uid, "third", ""); err != nil {
		t.Fatal(err)
	}
	tasks, err = tx.ListTasks(ctx, uid, store.StatusAll)
	if err != nil || len(tasks) != 3 {
		t.Errorf("a read after the write: %v, %d tasks, want 3", err, len(tasks))
	}
	if err := tx.CommitWith(ctx, func(last *store.Tx) error {
		_, _, err := last.SaveTurn(ctx, uid, conv, "", turn)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); !slices.Equal(got, []string{"SELECT", "BEGIN", "WITH", "SELECT", "WITH", "COMMIT"}) {
		t.Errorf("a turn that writes sent %v, want BEGIN with its first write and COMMIT with its last", got)
	}
	if n := pool.Stat().AcquiredConns(); n != 0 {
		t.Errorf("%d connections still held after both turns", n)
	}
}

// begin starts a transaction on st or fails the test.
func begin(t *testing.T, st *store.Store) *store.Tx {
	t.Helper()
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tx
}
