package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

// onePool is a pool of a single connection: concurrent reads must share it.
func onePool(t *testing.T) *pgxpool.Pool { return smallPool(t, 1) }

// smallPool is a pool of at most n connections, which start with statement_timeout set to
// statementTimeout if one is given (else the server's default: none).
func smallPool(t *testing.T, n int32, statementTimeout ...string) *pgxpool.Pool {
	return configuredPool(t, n, func(pc *pgxpool.Config) {
		for _, v := range statementTimeout {
			if v != "" {
				pc.ConnConfig.RuntimeParams["statement_timeout"] = v
			}
		}
	})
}

// configuredPool is a pool of at most n connections to the test database, its configuration
// changed by configure first; it is closed at the end of t.
func configuredPool(t *testing.T, n int32, configure func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	pc, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	pc.MaxConns = n
	configure(pc)
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newUser creates a user whose tasks are titled "<prefix> 1".."<prefix> n", the even ones
// completed.
func newUser(t *testing.T, st *store.Store, prefix string, n int) int64 {
	t.Helper()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, prefix+"-"+testdb.Unique()+"@example.com", "x")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		task, err := st.CreateTask(ctx, u.ID, fmt.Sprintf("%s %d", prefix, i), "")
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			done := true
			if _, err := st.UpdateTask(ctx, u.ID, task.ID, store.TaskPatch{Completed: &done}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return u.ID
}

// heldStore is a store over one connection that the test holds (reads queue until it is
// released), with a user of n tasks.
func heldStore(t *testing.T, prefix string, n int) (context.Context, *pgxpool.Pool, *store.Store, int64, *pgxpool.Conn) {
	t.Helper()
	pool := onePool(t)
	st := store.New(pool)
	uid := newUser(t, st, prefix, n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	held, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, pool, st, uid, held
}

// Reads that share a pipeline each get exactly their own user's list with their own filter:
// many users reading at once through a few connections never see each other's tasks, and
// every read is answered once.
func TestConcurrentListsEachGetTheirOwnUsersTasks(t *testing.T) {
	st := store.New(smallPool(t, 3))
	const users = 6
	ids := make([]int64, users)
	for i := range ids {
		ids[i] = newUser(t, st, fmt.Sprintf("user%d", i), i+1)
	}
	statuses := []string{store.StatusAll, store.StatusPending, store.StatusCompleted}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2000)
	for n := range 2000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, status := n%users, statuses[n%len(statuses)]
			tasks, err := st.ListTasks(ctx, ids[u], status)
			if err != nil {
				errs <- err
				return
			}
			want := 0
			for i := 1; i <= u+1; i++ {
				if status == store.StatusAll || (i%2 == 0) == (status == store.StatusCompleted) {
					want++
				}
			}
			if len(tasks) != want {
				errs <- fmt.Errorf("user%d %s: %d tasks, want %d", u, status, len(tasks), want)
				return
			}
			prefix := fmt.Sprintf("user%d ", u)
			for _, task := range tasks {
				if len(task.Title) <= len(prefix) || task.Title[:len(prefix)] != prefix ||
					(status != store.StatusAll && task.Completed != (status == store.StatusCompleted)) {
					errs <- fmt.Errorf("user%d %s got %q (completed %v)", u, status, task.Title, task.Completed)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Reads queued behind a busy connection run together once it is free: ten reads take the one
// connection once, not ten times.
func TestQueuedListsShareOneRoundTrip(t *testing.T) {
	ctx, pool, st, uid, held := heldStore(t, "batch", 2)
	before := pool.Stat().AcquireCount()
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tasks, err := st.ListTasks(ctx, uid, store.StatusAll); err != nil || len(tasks) != 2 {
				t.Errorf("list: %d tasks, %v", len(tasks), err)
			}
		}()
	}
	// Time for all ten to queue behind the held connection.
	time.Sleep(200 * time.Millisecond)
	held.Release()
	wg.Wait()
	// One read per connection would take it ten times; sharing takes it once (twice if a read
	// queued late).
	if got := pool.Stat().AcquireCount() - before; got > 2 {
		t.Errorf("the ten queued reads took the connection %d times, want 1", got)
	}
}

// A read whose deadline passes while it waits gives up alone: the reads queued with it are
// still served, and a read abandoned by its caller never cuts the pipeline it shares.
func TestAListThatGivesUpLeavesTheOthersServed(t *testing.T) {
	ctx, _, st, uid, held := heldStore(t, "patient", 3)
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	abandoned, abandon := context.WithCancel(ctx)
	results := make(chan error, 3)
	for _, c := range []context.Context{short, abandoned, ctx} {
		go func() {
			tasks, err := st.ListTasks(c, uid, store.StatusAll)
			if err == nil && len(tasks) != 3 {
				err = fmt.Errorf("%d tasks, want 3", len(tasks))
			}
			results <- err
		}()
	}
	if err := <-results; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the read past its deadline: %v, want a deadline error", err)
	}
	held.Release()
	abandon()
	for range 2 {
		if err := <-results; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("a read queued with one that gave up: %v", err)
		}
	}
	if tasks, err := st.ListTasks(ctx, uid, store.StatusAll); err != nil || len(tasks) != 3 {
		t.Errorf("a read afterwards: %d tasks, %v", len(tasks), err)
	}
}
