package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// listTurn is what the offline brain stores for "what's left?": the person's message, a tool
// call, its result and the reply.
func listTurn(text string) []store.Message {
	return []store.Message{
		{Role: store.RoleUser, Content: text},
		{Role: store.RoleAssistant, ToolCalls: []store.ToolCall{{ID: "call_1", Name: "list_tasks", Arguments: `{"status":"pending"}`}}},
		{Role: store.RoleTool, ToolCallID: "call_1", Content: `{"tasks":[]}`},
		{Role: store.RoleAssistant, Content: "You have no open tasks."},
	}
}

// saveTurn saves msgs as one turn of conv (0: a new conversation) and returns its id and the
// turn's last message.
func saveTurn(t testing.TB, st *store.Store, uid, conv int64, msgs []store.Message) (int64, int64) {
	t.Helper()
	var id, last int64
	err := st.WriteOne(context.Background(), func(st *store.Store) (err error) {
		id, last, err = st.SaveTurn(context.Background(), uid, conv, "title", msgs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id, last
}

// summary is "id role content" per message, with a tool call as its name and id.
func summary(msgs []store.Message) []string {
	var out []string
	for _, m := range msgs {
		s := fmt.Sprintf("%d %s %s", m.ID, m.Role, m.Content)
		for _, c := range m.ToolCalls {
			s += fmt.Sprintf(" call %s %s %s", c.ID, c.Name, c.Arguments)
		}
		if m.ToolCallID != "" {
			s += " for " + m.ToolCallID
		}
		out = append(out, s)
	}
	return out
}

// A conversation's messages are numbered 1, 2, 3… in the order they were said, whichever
// conversation of whichever user was written in between, and the answer's id is the turn's last.
func TestMessagesAreNumberedWithinTheirConversation(t *testing.T) {
	ctx := context.Background()
	st := store.New(smallPool(t, 2))
	uid := newUser(t, st, "numbered", 0)
	other := newUser(t, st, "numbered-other", 0)

	conv, last := saveTurn(t, st, uid, 0, listTurn("what's left?"))
	if last != 4 {
		t.Errorf("first turn's last message is %d, want 4", last)
	}
	otherConv, _ := saveTurn(t, st, other, 0, listTurn("show my tasks"))
	saveTurn(t, st, uid, 0, listTurn("a second conversation"))
	if _, last = saveTurn(t, st, uid, conv, []store.Message{
		{Role: store.RoleUser, Content: "thanks"}, {Role: store.RoleAssistant, Content: "You're welcome!"},
	}); last != 6 {
		t.Errorf("second turn's last message is %d, want 6", last)
	}

	msgs, err := st.Messages(ctx, uid, conv, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1 user what's left?",
		`2 assistant  call call_1 list_tasks {"status":"pending"}`,
		`3 tool {"tasks":[]} for call_1`,
		"4 assistant You have no open tasks.",
		"5 user thanks",
		"6 assistant You're welcome!",
	}
	if got := summary(msgs); !slices.Equal(got, want) {
		t.Errorf("messages:\n%q\nwant\n%q", got, want)
	}
	if msgs[0].CreatedAt.IsZero() || !msgs[0].CreatedAt.Equal(msgs[3].CreatedAt) || msgs[4].CreatedAt.Before(msgs[3].CreatedAt) {
		t.Errorf("times %v: want one per turn, in order", []any{msgs[0].CreatedAt, msgs[3].CreatedAt, msgs[4].CreatedAt})
	}

	if _, err := st.Messages(ctx, uid, otherConv, 100); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another user's conversation: %v, want ErrNotFound", err)
	}
	err = st.WriteOne(ctx, func(st *store.Store) error {
		_, _, err := st.SaveTurn(ctx, uid, otherConv, "", listTurn("mine now"))
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a turn saved into another user's conversation: %v, want ErrNotFound", err)
	}
	if msgs, err := st.Messages(ctx, other, otherConv, 100); err != nil || len(msgs) != 4 {
		t.Errorf("the other user's conversation afterwards: %v, %d messages, want 4", err, len(msgs))
	}
}

// The window a turn reads is the newest whole turns that fit in the limit: it starts at one of
// the person's messages, never at a tool result cut off from its call. A turn larger than the
// whole limit leaves the window empty, but the conversation is still found. Of those turns it
// reads only as many as its brain needs, and none begun after the message the person had seen
// (another tab's turn); each turn whole and in order, numbered as in the whole conversation.
func TestHistoryWindowHoldsWholeTurns(t *testing.T) {
	ctx := context.Background()
	st := store.New(onePool(t))
	uid := newUser(t, st, "window", 0)
	conv, _ := saveTurn(t, st, uid, 0, listTurn("first"))                                // 1-4
	saveTurn(t, st, uid, conv, listTurn("second"))                                       // 5-8
	saveTurn(t, st, uid, conv, []store.Message{{Role: store.RoleUser, Content: "third"}, // 9-10
		{Role: store.RoleAssistant, Content: "ok"}})
	saveTurn(t, st, uid, conv, listTurn("fourth")) // 11-14

	seen := func(n int64) *int64 { return &n }
	for _, c := range []struct {
		w     store.Window
		first []int64 // the numbers of the turns' first messages
		n     int
	}{
		{w: store.Window{Messages: 100}, first: []int64{1, 5, 9, 11}, n: 14},
		{w: store.Window{Messages: 10}, first: []int64{5, 9, 11}, n: 10}, // the last three turns
		{w: store.Window{Messages: 9}, first: []int64{9, 11}, n: 6},      // the second would be cut: left out
		{w: store.Window{Messages: 4}, first: []int64{11}, n: 4},
		{w: store.Window{Messages: 3}, first: nil, n: 0},
		{w: store.Window{Messages: 100, Turns: 1}, first: []int64{11}, n: 4},
		{w: store.Window{Messages: 100, Turns: 2}, first: []int64{9, 11}, n: 6},
		{w: store.Window{Messages: 100, Turns: 10}, first: []int64{1, 5, 9, 11}, n: 14},
		{w: store.Window{Messages: 6, Turns: 3}, first: []int64{9, 11}, n: 6}, // the limit still holds
		{w: store.Window{Messages: 100, Seen: seen(10)}, first: []int64{1, 5, 9}, n: 10},
		{w: store.Window{Messages: 100, Seen: seen(10), Turns: 1}, first: []int64{9}, n: 2},
		{w: store.Window{Messages: 100, Seen: seen(8), Turns: 2}, first: []int64{1, 5}, n: 8},
		{w: store.Window{Messages: 100, Seen: seen(12), Turns: 1}, first: []int64{11}, n: 4}, // the seen turn whole
		{w: store.Window{Messages: 4, Seen: seen(8)}, first: nil, n: 0},
		{w: store.Window{Messages: 100, Seen: seen(0)}, first: nil, n: 0}, // shown nothing yet
	} {
		msgs, err := st.History(ctx, uid, conv, c.w)
		if err != nil {
			t.Fatalf("%+v: %v", c.w, err)
		}
		var first []int64
		for i, m := range msgs {
			if m.Role == store.RoleUser {
				first = append(first, m.ID)
			}
			if i > 0 && m.ID != msgs[i-1].ID+1 {
				t.Errorf("%+v: message %d follows %d", c.w, m.ID, msgs[i-1].ID)
			}
		}
		if !slices.Equal(first, c.first) || len(msgs) != c.n || (len(msgs) > 0 && msgs[0].Role != store.RoleUser) {
			t.Errorf("%+v: window %q, want the %d messages of the turns at %v", c.w, summary(msgs), c.n, c.first)
		}
	}
	if _, err := st.History(ctx, uid, conv+1_000_000, store.Window{Messages: 10, Turns: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a conversation that does not exist: %v, want ErrNotFound", err)
	}
}

// A turn updates its conversation's row on its page (a heap-only tuple update, no new index
// entries), so an active conversation's id does not come to lead through a trail of dead row
// versions that every later turn's reads walk.
func TestTurnsUpdateTheirConversationInPlace(t *testing.T) {
	ctx := context.Background()
	pool := onePool(t)
	st := store.New(pool)
	uid := newUser(t, st, "in-place", 0)
	conv, _ := saveTurn(t, st, uid, 0, listTurn("first"))
	updates := func() (all, inPlace int64) {
		t.Helper()
		// A connection reports its counts when it goes idle, at most once a second unless told
		// to; the pool's one connection is the one that saved the turns.
		if _, err := pool.Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
			t.Fatal(err)
		}
		err := pool.QueryRow(ctx, "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'conversations'").Scan(&all, &inPlace)
		if err != nil {
			t.Fatal(err)
		}
		return all, inPlace
	}
	all0, inPlace0 := updates()
	const turns = 20
	for range turns {
		saveTurn(t, st, uid, conv, listTurn("again"))
	}
	all, inPlace := updates()
	if all-all0 != turns || inPlace-inPlace0 != turns {
		t.Errorf("%d turns updated their conversation %d times, %d of them in place; want every one in place", turns, all-all0, inPlace-inPlace0)
	}
}

// Only the three roles a conversation has are stored; anything else is refused before it
// reaches PostgreSQL, and nothing of the turn is saved.
func TestSaveTurnRefusesAnUnknownRole(t *testing.T) {
	ctx := context.Background()
	st := store.New(onePool(t))
	uid := newUser(t, st, "roles", 0)
	conv, _ := saveTurn(t, st, uid, 0, listTurn("first"))
	err := st.WriteOne(ctx, func(st *store.Store) error {
		_, _, err := st.SaveTurn(ctx, uid, conv, "", []store.Message{{Role: store.RoleUser, Content: "x"}, {Role: "system", Content: "obey"}})
		return err
	})
	if err == nil {
		t.Fatal("a turn with a system message was saved")
	}
	if msgs, err := st.Messages(ctx, uid, conv, 100); err != nil || len(msgs) != 4 {
		t.Errorf("after the refused turn: %v, %d messages, want the first turn's 4", err, len(msgs))
	}
}

// Conversations stored one row per message before turns existed keep every message, in order,
// numbered within their conversation, with their tool calls; their next turn numbers on.
func TestChatTurnsMigrationKeepsEveryMessage(t *testing.T) {
	ctx := context.Background()
	pool := migratedOver(t, "0008_chat_turns.sql",
		"INSERT INTO users (id, email, password_hash) VALUES (1, 'a@x', 'h'), (2, 'b@x', 'h')",
		"INSERT INTO conversations (id, user_id, title) VALUES (10, 1, 'list'), (11, 2, 'add'), (12, 1, 'empty')",
		// Two conversations written at once: their rows interleave.
		`INSERT INTO messages (id, conversation_id, role, content, tool_calls, tool_call_id) VALUES
		(100, 10, 'user', 'what''s left?', NULL, ''),
		(101, 11, 'user', 'add milk', NULL, ''),
		(102, 10, 'assistant', '', '[{"id":"c1","name":"list_tasks","arguments":"{}"}]', ''),
		(103, 11, 'assistant', 'Added task 1: milk', NULL, ''),
		(104, 10, 'tool', '{"tasks":[]}', NULL, 'c1'),
		(105, 10, 'assistant', 'Nothing left.', NULL, ''),
		(106, 10, 'user', 'thanks', NULL, ''),
		(107, 10, 'assistant', 'You''re welcome!', NULL, '')`)
	st := store.New(pool)
	msgs, err := st.Messages(ctx, 1, 10, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1 user what's left?",
		`2 assistant  call c1 list_tasks {}`,
		`3 tool {"tasks":[]} for c1`,
		"4 assistant Nothing left.",
		"5 user thanks",
		"6 assistant You're welcome!",
	}
	if got := summary(msgs); !slices.Equal(got, want) {
		t.Errorf("conversation 10:\n%q\nwant\n%q", got, want)
	}
	if msgs, err := st.Messages(ctx, 2, 11, 100); err != nil || !slices.Equal(summary(msgs), []string{"1 user add milk", "2 assistant Added task 1: milk"}) {
		t.Errorf("conversation 11: %v %q", err, summary(msgs))
	}
	if msgs, err := st.Messages(ctx, 1, 12, 100); err != nil || len(msgs) != 0 {
		t.Errorf("a conversation without messages: %v, %d messages, want found and empty", err, len(msgs))
	}
	if _, last := saveTurn(t, st, 1, 10, listTurn("and now?")); last != 10 {
		t.Errorf("the next turn's last message is %d, want 10", last)
	}
}

// keyedTurn claims key and saves msgs as a keyed turn of conv with members as its answer, in
// one transaction, and returns the answer.
func keyedTurn(t *testing.T, st *store.Store, uid, conv int64, key string, msgs []store.Message, members string) store.Response {
	t.Helper()
	ctx := context.Background()
	var resp store.Response
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if replay, err := tx.ClaimKey(ctx, uid, key, []byte(key), time.Hour); err != nil || replay != nil {
			return fmt.Errorf("claim: %v, replay %v", err, replay)
		}
		return tx.CommitWith(ctx, func(last *store.Tx) (err error) {
			resp, err = last.SaveKeyedTurn(ctx, uid, conv, "title", msgs, key, 200, []byte(members))
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// replayOf is the response stored for key, as a retry of its request gets it.
func replayOf(t *testing.T, st *store.Store, uid int64, key string) store.Response {
	t.Helper()
	ctx := context.Background()
	var replay *store.Response
	err := st.InTx(ctx, func(tx *store.Tx) (err error) {
		replay, err = tx.ClaimKey(ctx, uid, key, []byte(key), time.Hour)
		return err
	})
	if err != nil || replay == nil {
		t.Fatalf("replay of %s: %v, %v", key, replay, err)
	}
	return *replay
}

func TestKeyedTurnStoresTheAnswerItReturns(t *testing.T) {
	st := store.New(smallPool(t, 2))
	uid := newUser(t, st, "keyed", 0)
	first := keyedTurn(t, st, uid, 0, "first", listTurn("what's left?"), `{"reply":"You have no open tasks.","tool_calls":[]}`+"\n")
	var got struct {
		ConversationID int64  `json:"conversation_id"`
		MessageID      int64  `json:"message_id"`
		Reply          string `json:"reply"`
	}
	if err := json.Unmarshal(first.Body, &got); err != nil || got.ConversationID == 0 || got.MessageID != 4 || got.Reply != "You have no open tasks." || first.Status != 200 {
		t.Fatalf("answer %d %s: %+v, %v", first.Status, first.Body, got, err)
	}
	// The answer stored with the turn, joined by PostgreSQL, is the one the turn returned.
	if replay := replayOf(t, st, uid, "first"); replay.Status != 200 || !bytes.Equal(replay.Body, first.Body) {
		t.Fatalf("stored %d %q, returned %q", replay.Status, replay.Body, first.Body)
	}
	// A later turn of the conversation, with an answer of no other members.
	next := keyedTurn(t, st, uid, got.ConversationID, "next", listTurn("and now?"), ` { } `)
	want := fmt.Sprintf(`{"conversation_id":%d,"message_id":8 } `, got.ConversationID)
	if string(next.Body) != want {
		t.Fatalf("answer %q, want %q", next.Body, want)
	}
	if replay := replayOf(t, st, uid, "next"); !bytes.Equal(replay.Body, next.Body) {
		t.Fatalf("stored %q, returned %q", replay.Body, next.Body)
	}
}
