package store_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

// lockUser holds uid's row lock (what one of their creates takes for the next task number).
func lockUser(t *testing.T, uid int64) (unlock func()) {
	return testdb.HoldLock(t, "SELECT 1 FROM users WHERE id = $1 FOR UPDATE", uid)
}

// warmStore is a Store over one connection whose statements are already prepared, so a write
// that waits does so while it executes (not while PostgreSQL parses it, which never commits).
func warmStore(t *testing.T, uid int64) *store.Store { return warmStoreOn(t, onePool(t), uid) }

// warmStoreOn is warmStore over pool.
func warmStoreOn(t *testing.T, pool *pgxpool.Pool, uid int64) *store.Store {
	t.Helper()
	st := store.New(pool)
	if err := st.WriteOne(context.Background(), func(st *store.Store) error {
		_, err := st.CreateTask(context.Background(), uid, "warm-up", "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// A write still waiting when its deadline comes is told so in time and never happens, even
// when what it waited for goes away right after: the client's 503 is the truth. So it is when
// the connection's own statement_timeout is the one the server sets (StatementTimeout), which
// spares a write sent at once its own.
func TestWriteOneThatMissesItsDeadlineNeverHappens(t *testing.T) {
	for _, session := range []string{"", strconv.FormatInt(store.StatementTimeout(time.Second).Milliseconds(), 10)} {
		t.Run("session timeout "+session, func(t *testing.T) { writeMissesItsDeadline(t, session) })
	}
}

func writeMissesItsDeadline(t *testing.T, session string) {
	st := store.New(testdb.Pool(t))
	uid := newUser(t, st, "late", 0)
	one := warmStoreOn(t, smallPool(t, 1, session), uid)
	unlock := lockUser(t, uid)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	err := one.WriteOne(ctx, func(st *store.Store) error {
		_, err := st.CreateTask(ctx, uid, "too late", "")
		return err
	})
	// PostgreSQL itself ends the wait, a margin before the deadline, so the answer is in time.
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("a write stuck behind a lock: %v, want PostgreSQL's statement timeout", err)
	}
	if waited := time.Since(start); waited >= time.Second {
		t.Errorf("told after %v, past the deadline", waited)
	}
	unlock()
	time.Sleep(300 * time.Millisecond) // what a write still queued in PostgreSQL would need now
	if got := titles(t, st, uid); len(got) != 1 || got[0] != "warm-up" {
		t.Fatalf("tasks after the failed write: %v, want only [warm-up]", got)
	}
	// The connection is clean again: the next write commits.
	if err := one.WriteOne(context.Background(), func(st *store.Store) error {
		_, err := st.CreateTask(context.Background(), uid, "in time", "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := titles(t, st, uid); len(got) != 2 || got[1] != "in time" {
		t.Fatalf("tasks after the next write: %v", got)
	}
}

// A write that is sent finishes even when its caller stops waiting (a client that went away):
// it is bounded by the deadline only, so the server knows whether it wrote.
func TestWriteOneSentFinishesWhenTheCallerGoesAway(t *testing.T) {
	st := store.New(testdb.Pool(t))
	uid := newUser(t, st, "gone", 0)
	one := warmStore(t, uid)
	unlock := lockUser(t, uid)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel() // the client hangs up while the write waits
		time.Sleep(100 * time.Millisecond)
		unlock()
	}()
	var task store.Task
	err := one.WriteOne(ctx, func(st *store.Store) (err error) {
		task, err = st.CreateTask(ctx, uid, "finished anyway", "")
		return err
	})
	if err != nil {
		t.Fatalf("a sent write whose caller went away: %v, want it finished", err)
	}
	if got := titles(t, st, uid); len(got) != 2 || got[1] != "finished anyway" || task.Number != 2 {
		t.Fatalf("tasks: %v (returned %+v)", got, task)
	}
}

// WriteOne's writes are one statement: a second one is refused, since it would be a second
// transaction.
func TestWriteOneRefusesASecondStatement(t *testing.T) {
	ctx := context.Background()
	st := store.New(testdb.Pool(t))
	uid := newUser(t, st, "two", 0)
	err := st.WriteOne(ctx, func(st *store.Store) error {
		if _, err := st.CreateTask(ctx, uid, "first", ""); err != nil {
			return err
		}
		_, err := st.CreateTask(ctx, uid, "second", "")
		return err
	})
	if err == nil {
		t.Fatal("a second statement in WriteOne was run")
	}
	if got := titles(t, st, uid); len(got) != 1 || got[0] != "first" {
		t.Fatalf("tasks: %v, want [first]", got)
	}
}

// CommitWith's last statement is a write sent with the commit: a read there is refused, even
// when the transaction has only read so far, so the statement and the commit stay one.
func TestCommitWithRefusesARead(t *testing.T) {
	ctx := context.Background()
	st := store.New(onePool(t))
	uid := newUser(t, st, "last-read", 1)
	tx := begin(t, st)
	defer tx.Rollback(ctx)
	if _, err := tx.ListTasks(ctx, uid, store.StatusAll); err != nil {
		t.Fatal(err)
	}
	err := tx.CommitWith(ctx, func(last *store.Tx) error {
		_, err := last.ListTasks(ctx, uid, store.StatusAll)
		return err
	})
	if err == nil {
		t.Fatal("a read as CommitWith's last statement was run")
	}
}

// A write's failure (here: a missing task) comes back as itself, and nothing is held.
func TestWriteOneReportsTheStatementsError(t *testing.T) {
	ctx := context.Background()
	st := store.New(testdb.Pool(t))
	uid := newUser(t, st, "missing", 0)
	for range 20 { // more than the pool's connections: each one is given back
		err := st.WriteOne(ctx, func(st *store.Store) error {
			_, err := st.UpdateTask(ctx, uid, 1<<40, store.TaskPatch{})
			return err
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update of a missing task: %v, want ErrNotFound", err)
		}
	}
}

// A transaction's last statement and its COMMIT go together: everything commits, and the
// connection is free for the next transaction at once (a pool of one would block otherwise).
func TestCommitWithCommitsTheWholeTransaction(t *testing.T) {
	// With the connections' own statement_timeout shorter than the time left, the last
	// statement needs no timeout of its own (what a chat turn sees).
	for _, session := range []string{"", "10s"} {
		t.Run("session timeout "+session, func(t *testing.T) { commitWithCommitsAll(t, smallPool(t, 1, session)) })
	}
}

func commitWithCommitsAll(t *testing.T, pool *pgxpool.Pool) {
	ctx := context.Background()
	st := store.New(pool)
	uid := newUser(t, st, "commit-with", 0)
	for i := range 3 {
		tx := begin(t, st)
		defer tx.Rollback(ctx) // a failed round gives its connection back, or the pool never closes
		if _, err := tx.CreateTask(ctx, uid, "first", ""); err != nil {
			t.Fatal(err)
		}
		var last store.Task
		if err := tx.CommitWith(ctx, func(tx *store.Tx) (err error) {
			last, err = tx.CreateTask(ctx, uid, "last", "")
			return err
		}); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if err := tx.Commit(ctx); err != nil { // what InTx does after fn: nothing left to do
			t.Fatalf("Commit after CommitWith: %v", err)
		}
		tx.Rollback(ctx) // deferred by callers: a no-op now
		if last.Number != int64(2*i+2) {
			t.Fatalf("round %d: last task number %d", i, last.Number)
		}
	}
	if got := titles(t, st, uid); len(got) != 6 {
		t.Fatalf("tasks: %v, want 3 x [first last]", got)
	}
}

// A last statement that fails leaves the transaction uncommitted: Rollback undoes the earlier
// statements too, and the connection serves the next transaction.
func TestCommitWithFailingStatementCommitsNothing(t *testing.T) {
	ctx := context.Background()
	st := store.New(onePool(t))
	uid := newUser(t, st, "commit-fail", 0)
	tx := begin(t, st)
	if _, err := tx.CreateTask(ctx, uid, "undone", ""); err != nil {
		t.Fatal(err)
	}
	err := tx.CommitWith(ctx, func(tx *store.Tx) error {
		// A turn without messages, which the turns table refuses (CHECK): the statement fails
		// in PostgreSQL.
		_, _, err := tx.SaveTurn(ctx, uid, 0, "t", nil)
		return err
	})
	if err == nil {
		t.Fatal("CommitWith with a failing statement succeeded")
	}
	tx.Rollback(ctx)
	if got := titles(t, st, uid); len(got) != 0 {
		t.Fatalf("tasks after the failed commit: %v, want none", got)
	}
	if err := st.WriteOne(ctx, func(st *store.Store) error {
		_, err := st.CreateTask(ctx, uid, "next", "")
		return err
	}); err != nil {
		t.Fatalf("the next write on the connection: %v", err)
	}
}

// A last statement still waiting at the deadline rolls the whole transaction back, even when
// what it waited for goes away right after; so does one still waiting when the connection's
// own statement_timeout ends, when that comes first (a chat turn's deadline is minutes away).
func TestCommitWithPastTheDeadlineCommitsNothing(t *testing.T) {
	for _, c := range []struct {
		name, session string // the connections' statement_timeout ("": not set)
		deadline      time.Duration
	}{
		{"no session timeout", "", time.Second},
		{"a session timeout after the deadline", "1min", time.Second},
		{"a session timeout before the deadline", "300", time.Minute},
		{"a session timeout with a unit", "0.3s", time.Minute},
	} {
		// The first statement runs before the lock and the last one waits behind it. A first
		// write begins the transaction; after a read only, the last statement is one of its own.
		for _, first := range []string{"write", "read"} {
			t.Run(c.name+", first a "+first, func(t *testing.T) { commitWithPastTheDeadline(t, c.session, c.deadline, first) })
		}
	}
}

func commitWithPastTheDeadline(t *testing.T, session string, deadline time.Duration, first string) {
	st := store.New(testdb.Pool(t))
	uid := newUser(t, st, "commit-late", 0)
	one := warmStoreOn(t, smallPool(t, 1, session), uid)
	bg := context.Background()
	tx := begin(t, one)
	defer tx.Rollback(bg)
	other := newUser(t, st, "commit-late-other", 0)
	var err error
	if first == "write" {
		_, err = tx.CreateTask(bg, other, "first", "")
	} else {
		_, err = tx.ListTasks(bg, other, store.StatusAll)
	}
	if err != nil {
		t.Fatal(err)
	}
	unlock := lockUser(t, uid)
	ctx, cancel := context.WithTimeout(bg, deadline)
	defer cancel()
	start := time.Now()
	err = tx.CommitWith(ctx, func(tx *store.Tx) error {
		_, err := tx.CreateTask(ctx, uid, "too late", "")
		return err
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("a last statement stuck behind a lock: %v, want PostgreSQL's statement timeout", err)
	}
	if waited := time.Since(start); waited > deadline/2+time.Second {
		t.Errorf("the last statement waited %v: the first timeout to end is the session's or the deadline's", waited)
	}
	tx.Rollback(bg)
	unlock()
	time.Sleep(300 * time.Millisecond)
	if got := titles(t, st, other); len(got) != 0 {
		t.Errorf("the first statement's task: %v, want rolled back", got)
	}
	if got := titles(t, st, uid); len(got) != 1 {
		t.Errorf("tasks behind the lock: %v, want only the warm-up", got)
	}
}

// At most half the pool's connections carry single writes at once: with the other writes
// queued in the server, PostgreSQL sees two statements waiting on a lock, not four, and every
// write still lands once the lock goes.
func TestWriteOneHalfThePoolAtOnce(t *testing.T) {
	other := testdb.Pool(t) // what looks at PostgreSQL's activity
	st := store.New(other)
	uid := newUser(t, st, "slots", 0)
	four := store.New(smallPool(t, 4))
	unlock := lockUser(t, uid)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, 10)
	for range cap(errs) {
		go func() {
			errs <- four.WriteOne(ctx, func(st *store.Store) error {
				_, err := st.CreateTask(ctx, uid, "queued", "")
				return err
			})
		}()
	}
	waiting := func() (n int) {
		err := other.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%last_task_number%'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(5 * time.Second)
	for waiting() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // room for a third to arrive, were it let through
	if n := waiting(); n != 2 {
		t.Errorf("writes waiting in PostgreSQL with a pool of 4: %d, want 2", n)
	}
	unlock()
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := titles(t, st, uid); len(got) != 10 {
		t.Fatalf("tasks: %d, want 10", len(got))
	}
}

// The pool's statement_timeout ends two write margins (a fifth of the time, 50-500 ms) before
// the request's deadline, and never before half of it.
func TestStatementTimeout(t *testing.T) {
	for rt, want := range map[time.Duration]time.Duration{
		10 * time.Second: 9 * time.Second, time.Second: 600 * time.Millisecond,
		time.Minute: 59 * time.Second, 100 * time.Millisecond: 50 * time.Millisecond,
	} {
		if got := store.StatementTimeout(rt); got != want {
			t.Errorf("StatementTimeout(%v) = %v, want %v", rt, got, want)
		}
	}
}
