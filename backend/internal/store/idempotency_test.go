package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

// A keyed chat turn of an existing conversation makes two round trips: BEGIN, the key's claim
// and the history read together, then the saved turn with COMMIT. Its retry gets the stored
// answer, and the key sent with another request is refused.
func TestAQueuedClaimTravelsWithTheNextStatement(t *testing.T) {
	ctx := context.Background()
	pool, log := tracedPool(t)
	st := store.New(pool)
	uid := newUser(t, st, "claim-ahead", 1)
	conv, _ := saveTurn(t, st, uid, 0, listTurn("what's left?"))
	hash := []byte("turn two")

	// turn claims key with hash, reads the conversation, and returns the claim's outcome.
	turn := func(tx *store.Tx, key string, hash []byte) (*store.Response, error) {
		t.Helper()
		claim := tx.QueueClaim(uid, key, hash, time.Hour)
		msgs, err := tx.Messages(ctx, uid, conv, 60)
		replay, cerr := claim.Outcome(ctx)
		if cerr == nil && (err != nil || len(msgs) == 0 || msgs[0].Content != "what's left?") {
			t.Fatalf("history read with the claim: %v, %d messages", err, len(msgs))
		}
		return replay, cerr
	}

	tx := begin(t, st)
	defer tx.Rollback(ctx)
	log.take()
	if replay, err := turn(tx, "k", hash); err != nil || replay != nil {
		t.Fatalf("first claim: %v, replay %v; want the key", err, replay)
	}
	var first store.Response
	if err := tx.CommitWith(ctx, func(last *store.Tx) (err error) {
		first, err = last.SaveKeyedTurn(ctx, uid, conv, "", listTurn("and now?"), "k", 200, []byte(`{"reply":"none"}`))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := log.takeTrips(), [][]string{{"BEGIN", "INSERT", "SELECT"}, {"WITH", "COMMIT"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("a keyed turn sent %q, want %q", got, want)
	}

	tx = begin(t, st)
	defer tx.Rollback(ctx)
	replay, err := turn(tx, "k", hash)
	if err != nil || replay == nil || replay.Status != 200 || !bytes.Equal(replay.Body, first.Body) {
		t.Fatalf("retry: %v, %+v; want the first answer %s", err, replay, first.Body)
	}
	tx.Rollback(ctx)
	tx = begin(t, st)
	defer tx.Rollback(ctx)
	if _, err := turn(tx, "k", []byte("another request")); !errors.Is(err, store.ErrKeyReused) {
		t.Fatalf("the key with another request: %v, want ErrKeyReused", err)
	}
	tx.Rollback(ctx)

	// A task read carries a queued claim too; with nothing to carry it, Outcome sends it.
	tx = begin(t, st)
	defer tx.Rollback(ctx)
	log.take()
	claim := tx.QueueClaim(uid, "read", hash, time.Hour)
	if tasks, err := tx.ListTasks(ctx, uid, store.StatusAll); err != nil || len(tasks) != 1 {
		t.Fatalf("ListTasks with the claim: %v, %d tasks", err, len(tasks))
	}
	if replay, err := claim.Outcome(ctx); err != nil || replay != nil {
		t.Fatalf("claim carried by a read: %v, %v", err, replay)
	}
	tx.Rollback(ctx)
	tx = begin(t, st)
	defer tx.Rollback(ctx)
	if replay, err := tx.QueueClaim(uid, "alone", hash, time.Hour).Outcome(ctx); err != nil || replay != nil {
		t.Fatalf("claim alone: %v, %v", err, replay)
	}
	tx.Rollback(ctx)
	want := [][]string{{"BEGIN", "INSERT", "SELECT"}, {"ROLLBACK"}, {"BEGIN", "INSERT"}, {"ROLLBACK"}}
	if got := log.takeTrips(); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("sent %q, want %q", got, want)
	}
}

// When the claim fails, the statement that carried it fails too, and Outcome says why.
func TestAFailedClaimIsTheOutcomeNotTheStatementAfterIt(t *testing.T) {
	ctx := context.Background()
	st := store.New(smallPool(t, 1))
	uid := newUser(t, st, "claim-fails", 0)
	conv, _ := saveTurn(t, st, uid, 0, listTurn("what's left?"))

	tx := begin(t, st)
	defer tx.Rollback(ctx)
	claim := tx.QueueClaim(-1, "k", []byte("h"), time.Hour) // no such user: a foreign-key error
	if _, err := tx.Messages(ctx, uid, conv, 60); err == nil {
		t.Fatal("the history read after a failed claim succeeded")
	}
	_, err := claim.Outcome(ctx)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23503" {
		t.Fatalf("outcome %v, want the claim's foreign-key violation", err)
	}
}

// A client that goes away while its claim's batch is on the wire ends the request as cancelled
// (the server logs 499), not as a database failure: the claim is not sent again on the
// connection pgx closed when the context ended.
func TestAClaimCancelledWithItsBatchIsCancelled(t *testing.T) {
	var slow atomic.Bool
	pool := configuredPool(t, 1, func(pc *pgxpool.Config) {
		pc.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			return &slowReads{Conn: c, slow: &slow}, err
		}
	})
	st := store.New(pool)
	uid := newUser(t, st, "claim-cancelled", 0)

	tx := begin(t, st)
	defer tx.Rollback(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	claim := tx.QueueClaim(uid, "k", []byte("h"), time.Hour)
	slow.Store(true)
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := tx.CreateTask(ctx, uid, "never", ""); err == nil {
		t.Fatal("the create of a cancelled request succeeded")
	}
	slow.Store(false)
	if _, err := claim.Outcome(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("outcome %v, want context.Canceled", err)
	}
}

// slowReads holds every read back while slow is set, long enough for a context to end first.
type slowReads struct {
	net.Conn
	slow *atomic.Bool
}

func (c *slowReads) Read(b []byte) (int, error) {
	if c.slow.Load() {
		time.Sleep(200 * time.Millisecond)
	}
	return c.Conn.Read(b)
}

// A chat turn as the UI sends it that lists tasks makes two round trips too: the list the
// brain reads first goes with the claim and the history, and answers the turn's list read.
// A statement in between makes that answer stale, and another list is read anew.
func TestAQueuedListAnswersTheReadAfterTheHistory(t *testing.T) {
	ctx := context.Background()
	pool, log := tracedPool(t)
	st := store.New(pool)
	uid := newUser(t, st, "list-ahead", 3) // tasks 1 and 3 pending, 2 completed
	conv, _ := saveTurn(t, st, uid, 0, listTurn("what's left?"))
	window := store.Window{Messages: 60, Turns: 1}

	tx := begin(t, st)
	defer tx.Rollback(ctx)
	log.take()
	claim := tx.QueueClaim(uid, "k", []byte("turn two"), time.Hour)
	tx.QueueList(uid, store.StatusPending)
	if msgs, err := tx.History(ctx, uid, conv, window); err != nil || len(msgs) != 4 {
		t.Fatalf("history: %v, %d messages, want 4", err, len(msgs))
	}
	if replay, err := claim.Outcome(ctx); err != nil || replay != nil {
		t.Fatalf("claim: %v, replay %v; want the key", err, replay)
	}
	tasks, err := tx.ListTasks(ctx, uid, store.StatusPending)
	if err != nil || len(tasks) != 2 || tasks[0].Title != "list-ahead 1" || tasks[1].Title != "list-ahead 3" {
		t.Fatalf("the list read after the history: %v, %+v; want the two pending tasks", err, tasks)
	}
	if err := tx.CommitWith(ctx, func(last *store.Tx) error {
		_, err := last.SaveKeyedTurn(ctx, uid, conv, "", listTurn("and now?"), "k", 200, []byte(`{"reply":"two"}`))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := log.takeTrips(), [][]string{{"BEGIN", "INSERT", "SELECT", "SELECT"}, {"WITH", "COMMIT"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("a keyed turn that lists sent %q, want %q", got, want)
	}

	// A write after the history: the list read after it sees the new task.
	tx = begin(t, st)
	defer tx.Rollback(ctx)
	tx.QueueList(uid, store.StatusPending)
	if _, err := tx.History(ctx, uid, conv, window); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.CreateTask(ctx, uid, "list-ahead 4", ""); err != nil {
		t.Fatal(err)
	}
	if tasks, err := tx.ListTasks(ctx, uid, store.StatusPending); err != nil || len(tasks) != 3 {
		t.Errorf("a list read after a write: %v, %d tasks, want 3", err, len(tasks))
	}
	tx.Rollback(ctx)

	// Another list than the one queued is read, not answered from it.
	tx = begin(t, st)
	defer tx.Rollback(ctx)
	tx.QueueList(uid, store.StatusCompleted)
	if _, err := tx.History(ctx, uid, conv, window); err != nil {
		t.Fatal(err)
	}
	log.take()
	if tasks, err := tx.ListTasks(ctx, uid, store.StatusPending); err != nil || len(tasks) != 2 {
		t.Errorf("another list: %v, %d tasks, want 2", err, len(tasks))
	}
	if got := log.take(); !slices.Equal(got, []string{"SELECT"}) {
		t.Errorf("another list sent %v, want its own read", got)
	}
}

// createAnswer answers a create as a test API would: the task as JSON.
var createAnswer = store.TaskAnswer{Status: 201, Location: "/tasks/", Body: func(t store.Task) []byte {
	b, err := json.Marshal(t)
	if err != nil {
		panic(err)
	}
	return b
}}

// A keyed create is one round trip: the key's claim and the create, which keeps the task as the
// key's response, in one implicit transaction. A retry creates nothing and gets the same bytes,
// read back in a round trip of its own; the key sent with another request is refused.
func TestAKeyedCreateIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	pool, log := tracedPool(t)
	st := store.New(pool)
	uid := newUser(t, st, "keyed-create", 0)
	hash := []byte("create buy milk")

	log.take()
	first, replayed, err := st.CreateKeyedTask(ctx, uid, "k", hash, time.Hour, "buy milk", "2 <litres> & more", createAnswer)
	if err != nil || replayed {
		t.Fatalf("first create: %v, replayed %v", err, replayed)
	}
	var task store.Task
	if err := json.Unmarshal(first.Body, &task); err != nil || task.Title != "buy milk" || task.Number != 1 ||
		first.Status != 201 || first.Location != "/tasks/"+strconv.FormatInt(task.ID, 10) {
		t.Fatalf("first answer: %d %q %s (%v)", first.Status, first.Location, first.Body, err)
	}
	if got, want := log.takeTrips(), [][]string{{"INSERT", "WITH"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("a keyed create sent %q, want %q", got, want)
	}

	again, replayed, err := st.CreateKeyedTask(ctx, uid, "k", hash, time.Hour, "buy milk", "2 <litres> & more", createAnswer)
	if err != nil || !replayed || again.Status != 201 || again.Location != first.Location || !bytes.Equal(again.Body, first.Body) {
		t.Fatalf("retry: %v, replayed %v, %d %q %s; want the first answer %s", err, replayed, again.Status, again.Location, again.Body, first.Body)
	}
	if got, want := log.takeTrips(), [][]string{{"INSERT", "WITH"}, {"SELECT"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("a retried create sent %q, want %q", got, want)
	}
	if _, _, err := st.CreateKeyedTask(ctx, uid, "k", []byte("create buy bread"), time.Hour, "buy bread", "", createAnswer); !errors.Is(err, store.ErrKeyReused) {
		t.Fatalf("the key with another request: %v, want ErrKeyReused", err)
	}
	if got := titles(t, st, uid); !slices.Equal(got, []string{"buy milk"}) {
		t.Fatalf("tasks: %q, want the one create", got)
	}
}

// A keyed create that does not happen leaves its key unused: cut by its deadline while the
// user's row is locked, it created nothing, and the same request sent again creates the task.
func TestAKeyedCreateCutShortLeavesItsKeyUnused(t *testing.T) {
	st := store.New(testdb.Pool(t))
	uid := newUser(t, st, "keyed-cut", 0)
	hash := []byte("create once")
	unlock := lockUser(t, uid)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, _, err := st.CreateKeyedTask(ctx, uid, "cut", hash, time.Hour, "once", "", createAnswer)
	cancel()
	unlock()
	if err == nil {
		t.Fatal("a create behind a lock past its deadline succeeded")
	}
	resp, replayed, err := st.CreateKeyedTask(context.Background(), uid, "cut", hash, time.Hour, "once", "", createAnswer)
	if err != nil || replayed || resp.Status != 201 {
		t.Fatalf("the create sent again: %v, replayed %v, status %d; want it created now", err, replayed, resp.Status)
	}
	if got := titles(t, st, uid); !slices.Equal(got, []string{"once"}) {
		t.Fatalf("tasks: %q, want one", got)
	}
}
