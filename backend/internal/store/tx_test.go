package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
	tx, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
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
