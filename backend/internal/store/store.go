// Package store is the PostgreSQL data layer. Every query takes parameters (never string
// concatenation) and every task/conversation query is scoped to the owning user.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	segjson "github.com/segmentio/encoding/json"
)

var (
	// ErrNotFound means the row does not exist or belongs to another user.
	ErrNotFound = errors.New("not found")
	// ErrEmailTaken means a user with that email (case-insensitively) exists.
	ErrEmailTaken = errors.New("email already registered")
)

// DB is what the queries run on: the pool, or one transaction of it.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Store runs the queries on the pool, or (from InTx) on one transaction.
type Store struct {
	db     DB
	pool   *pgxpool.Pool
	lists  *listBatcher  // nil in a transaction
	writes chan struct{} // WriteOne's statements in PostgreSQL at once; nil in a transaction
	// session is the statement_timeout the pool's connections start with (0: none known).
	session time.Duration
}

// New returns a Store over pool.
func New(pool *pgxpool.Pool) *Store {
	cfg := pool.Config() // a copy: taken once
	return &Store{db: pool, pool: pool, lists: &listBatcher{pool: pool}, writes: make(chan struct{}, writeSlots(cfg)),
		session: sessionTimeout(cfg)}
}

// User is an account.
type User struct {
	ID           int64  `json:"id"`
	Email        string `json:"email"`
	PasswordHash string `json:"-"`
	TokenVersion int64  `json:"-"`
}

// Task is one to-do item.
type Task struct {
	ID int64 `json:"id"`
	// Number is the task's place in its owner's own sequence (1, 2, 3…): what people see and say.
	Number      int64     `json:"number"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Completed   bool      `json:"completed"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// TaskPatch holds the fields of a partial update; nil means unchanged.
type TaskPatch struct {
	Title       *string
	Description *string
	Completed   *bool
}

// Task status filters.
const (
	StatusAll       = "all"
	StatusPending   = "pending"
	StatusCompleted = "completed"
)

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key (here: users.email).
const uniqueViolation = "23505"

// CreateUser inserts a user; ErrEmailTaken on a duplicate email.
func (s *Store) CreateUser(ctx context.Context, email, hash string) (User, error) {
	u := User{Email: email, PasswordHash: hash}
	err := s.db.QueryRow(ctx,
		"INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id", email, hash).Scan(&u.ID)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
			return User{}, ErrEmailTaken
		}
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UserByEmail finds a user by email, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.db.QueryRow(ctx,
		"SELECT id, email, password_hash, token_version FROM users WHERE lower(email) = lower($1)", email).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &u.TokenVersion)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("user by email: %w", err)
	}
	return u, nil
}

// TokenVersion returns the user's current token version; tokens carrying an older one are
// revoked. ErrNotFound if the user no longer exists.
func (s *Store) TokenVersion(ctx context.Context, userID int64) (int64, error) {
	var v int64
	err := s.db.QueryRow(ctx, "SELECT token_version FROM users WHERE id = $1", userID).Scan(&v)
	if err != nil {
		return 0, notFound(err, "token version")
	}
	return v, nil
}

// RevokeTokens bumps the user's token version, revoking every token issued so far.
func (s *Store) RevokeTokens(ctx context.Context, userID int64) error {
	if _, err := s.db.Exec(ctx, "UPDATE users SET token_version = token_version + 1 WHERE id = $1", userID); err != nil {
		return fmt.Errorf("revoke tokens: %w", err)
	}
	return nil
}

const taskCols = "id, number, title, description, completed, created_at, updated_at"

// RestoreWindow is how long a deleted task can be restored; older deleted rows are purged.
const RestoreWindow = 30 * 24 * time.Hour

func scanTask(row pgx.Row) (Task, error) {
	var t Task
	err := row.Scan(&t.ID, &t.Number, &t.Title, &t.Description, &t.Completed, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return fmt.Errorf("%s: %w", what, err)
}

// CreateTask inserts a task for userID with the user's next task number. Taking the number
// locks the user's row, so concurrent creates of one user get distinct consecutive numbers.
func (s *Store) CreateTask(ctx context.Context, userID int64, title, description string) (Task, error) {
	t, err := scanTask(s.db.QueryRow(ctx, `WITH n AS (
		UPDATE users SET last_task_number = last_task_number + 1 WHERE id = $1 RETURNING last_task_number)
		INSERT INTO tasks (user_id, number, title, description)
		SELECT $1, n.last_task_number, $2, $3 FROM n RETURNING `+taskCols,
		userID, title, description))
	if err != nil {
		return Task{}, fmt.Errorf("create task: %w", err)
	}
	return t, nil
}

// ListTasks returns userID's tasks ordered by id, filtered by status (all|pending|completed).
// Outside a transaction, concurrent calls share round trips (listBatcher).
func (s *Store) ListTasks(ctx context.Context, userID int64, status string) ([]Task, error) {
	if s.lists != nil {
		tasks, err := s.lists.list(ctx, userID, status)
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		return tasks, nil
	}
	sql, args := listQuery(userID, status)
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	tasks, err := collectTasks(rows)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return tasks, nil
}

// listQuery is ListTasks' statement and arguments.
func listQuery(userID int64, status string) (string, []any) {
	switch status {
	case StatusPending, StatusCompleted:
		return "SELECT " + taskCols + " FROM tasks WHERE user_id = $1 AND deleted_at IS NULL AND completed = $2 ORDER BY id",
			[]any{userID, status == StatusCompleted}
	default:
		return "SELECT " + taskCols + " FROM tasks WHERE user_id = $1 AND deleted_at IS NULL ORDER BY id", []any{userID}
	}
}

// collectTasks reads every row of rows as a Task (never nil: an empty list is []).
func collectTasks(rows pgx.Rows) ([]Task, error) {
	tasks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Task, error) { return scanTask(r) })
	if err != nil {
		return nil, err
	}
	if tasks == nil {
		tasks = []Task{}
	}
	return tasks, nil
}

// GetTask returns one of userID's tasks; ErrNotFound for a missing or foreign id.
func (s *Store) GetTask(ctx context.Context, userID, id int64) (Task, error) {
	t, err := scanTask(s.db.QueryRow(ctx,
		"SELECT "+taskCols+" FROM tasks WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL", id, userID))
	if err != nil {
		return Task{}, notFound(err, "get task")
	}
	return t, nil
}

// UpdateTask applies p to one of userID's tasks.
func (s *Store) UpdateTask(ctx context.Context, userID, id int64, p TaskPatch) (Task, error) {
	t, err := scanTask(s.db.QueryRow(ctx, `UPDATE tasks SET
		title = COALESCE($3, title),
		description = COALESCE($4, description),
		completed = COALESCE($5, completed),
		updated_at = now()
		WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING `+taskCols,
		id, userID, p.Title, p.Description, p.Completed))
	if err != nil {
		return Task{}, notFound(err, "update task")
	}
	return t, nil
}

// DeleteTask hides one of userID's tasks (restorable for RestoreWindow) and returns it. The
// same statement purges the user's deleted tasks older than the window.
func (s *Store) DeleteTask(ctx context.Context, userID, id int64) (Task, error) {
	t, err := scanTask(s.db.QueryRow(ctx, `WITH purge AS (
		DELETE FROM tasks WHERE user_id = $2 AND deleted_at < now() - make_interval(secs => $3))
		UPDATE tasks SET deleted_at = now() WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL
		RETURNING `+taskCols, id, userID, RestoreWindow.Seconds()))
	if err != nil {
		return Task{}, notFound(err, "delete task")
	}
	return t, nil
}

// RestoreTask brings back one of userID's deleted tasks; ErrNotFound if it is not deleted (or
// missing, or another user's).
func (s *Store) RestoreTask(ctx context.Context, userID, id int64) (Task, error) {
	t, err := scanTask(s.db.QueryRow(ctx, `UPDATE tasks SET deleted_at = NULL, updated_at = now()
		WHERE id = $1 AND user_id = $2 AND deleted_at IS NOT NULL RETURNING `+taskCols, id, userID))
	if err != nil {
		return Task{}, notFound(err, "restore task")
	}
	return t, nil
}

// TaskIDByNumber maps one of userID's task numbers to the task's id, deleted or not.
func (s *Store) TaskIDByNumber(ctx context.Context, userID, number int64) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, "SELECT id FROM tasks WHERE user_id = $1 AND number = $2", userID, number).Scan(&id)
	if err != nil {
		return 0, notFound(err, "task by number")
	}
	return id, nil
}

// Conversation is a chat thread.
type Conversation struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ToolCall is a tool invocation requested by an assistant message.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Message is one stored chat message (user, assistant or tool result).
type Message struct {
	ID         int64      `json:"id"`
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// ListConversations returns userID's conversations, most recently active first.
func (s *Store) ListConversations(ctx context.Context, userID int64) ([]Conversation, error) {
	rows, err := s.db.Query(ctx,
		"SELECT id, title, created_at, updated_at FROM conversations WHERE user_id = $1 ORDER BY updated_at DESC, id DESC LIMIT 200",
		userID)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Conversation, error) {
		var c Conversation
		err := r.Scan(&c.ID, &c.Title, &c.CreatedAt, &c.UpdatedAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	if out == nil {
		out = []Conversation{}
	}
	return out, nil
}

// Messages returns the last whole turns of one of userID's conversations that fit in limit
// messages, in order: History with Window{Messages: limit}.
func (s *Store) Messages(ctx context.Context, userID, conversationID int64, limit int) ([]Message, error) {
	return s.History(ctx, userID, conversationID, Window{Messages: limit})
}

// Window is which of a conversation's messages History returns: the whole turns among its last
// Messages messages, of those none begun after message Seen (nil: any; a reader leaves out what
// another client wrote since it last showed the conversation), and of those the last Turns (0:
// all). Every message of a turn is in or out together.
type Window struct {
	Messages int
	Seen     *int64
	Turns    int
}

// History returns the turns of one of userID's conversations that w selects, in order, in one
// query; each message's ID is its number in the conversation. The window therefore starts at
// one of the person's messages, and never shows a tool result without its call. ErrNotFound if
// the conversation is missing or another user's. In a transaction the conversation then stays
// until it ends (a key-share lock, which other turns' updates do not wait for): the turn's
// SaveTurn, sent with COMMIT, cannot find it gone.
func (s *Store) History(ctx context.Context, userID, conversationID int64, w Window) ([]Message, error) {
	seen := int64(math.MaxInt64)
	if w.Seen != nil {
		seen = *w.Seen
	}
	var turns any // LIMIT NULL is no limit
	if w.Turns > 0 {
		turns = w.Turns
	}
	// The turns newest first, so that LIMIT keeps the last ones (read backwards along the
	// primary key), then in order.
	rows, err := s.db.Query(ctx, `SELECT t.first_message, t.created_at, t.messages
		FROM conversations c LEFT JOIN LATERAL (
			SELECT first_message, created_at, messages FROM turns
			WHERE conversation_id = c.id AND first_message > c.message_count - $3 AND first_message <= $4
			ORDER BY first_message DESC LIMIT $5) t ON true
		WHERE c.id = $1 AND c.user_id = $2 ORDER BY t.first_message FOR KEY SHARE OF c`,
		conversationID, userID, w.Messages, seen, turns)
	if err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	defer rows.Close()
	found := false
	out := []Message{}
	for rows.Next() {
		found = true
		var first *int64
		var at *time.Time
		var raw []byte
		if err := rows.Scan(&first, &at, &raw); err != nil {
			return nil, fmt.Errorf("messages: %w", err)
		}
		if first == nil { // the conversation, with no turn in the window
			continue
		}
		// segmentio's decoder, not encoding/json's: the window is the largest JSON the server
		// reads on a chat turn (15 turns of four messages, a tool result's JSON quoted in each),
		// and it decodes it in under half the time and allocations (measured per turn: 1.9 µs
		// and 14 allocations against 4.6 µs and 26). Only the server writes these rows.
		var turn []storedMessage
		if err := segjson.Unmarshal(raw, &turn); err != nil {
			return nil, fmt.Errorf("messages: turn %d of conversation %d: %w", *first, conversationID, err)
		}
		for i, m := range turn {
			out = append(out, Message{ID: *first + int64(i), Role: m.Role, Content: m.Content,
				ToolCalls: m.ToolCalls, ToolCallID: m.ToolCallID, CreatedAt: *at})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	if !found {
		return nil, ErrNotFound
	}
	return out, nil
}

// storedMessage is a Message as a turn row holds it: its number and time are the turn's.
type storedMessage struct {
	Role       string     `json:"role"`
	Content    string     `json:"content,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// Message roles: the person, the assistant (its replies and tool calls), a tool's result.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// SaveTurn stores msgs as one turn of one of userID's conversations — or, when conversationID
// is 0, of a new conversation titled title — in one statement (one round trip, atomic), and
// returns the conversation id and the number of the turn's last message (what the client has
// now seen). ErrNotFound if the conversation is missing or another user's. A turn without
// messages fails in PostgreSQL (a CHECK), so a transaction ending with it does not commit.
func (s *Store) SaveTurn(ctx context.Context, userID, conversationID int64, title string, msgs []Message) (int64, int64, error) {
	return s.saveTurn(ctx, userID, conversationID, title, msgs, nil)
}

// SaveKeyedTurn is SaveTurn for a turn whose request claimed key (ClaimKey): the same
// statement also stores the turn's answer as the key's response, so a keyed turn ends in one
// round trip too. The answer is TurnAnswer of the ids the turn is saved under and members.
func (t *Tx) SaveKeyedTurn(ctx context.Context, userID, conversationID int64, title string, msgs []Message, key string, status int, members []byte) (Response, error) {
	k := &keyedAnswer{key: key, status: status, tail: answerTail(members)}
	id, last, err := t.saveTurn(ctx, userID, conversationID, title, msgs, k)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: status, Body: turnAnswer(id, last, k.tail)}, nil
}

// TurnAnswer is a chat turn's answer: members, a JSON object, with the conversation's id and
// the number of the turn's last message put first. SaveKeyedTurn stores the same bytes,
// joined in SQL (answerHead there must stay this function's head).
func TurnAnswer(conversationID, lastMessage int64, members []byte) []byte {
	return turnAnswer(conversationID, lastMessage, answerTail(members))
}

// turnAnswer is TurnAnswer of members' answerTail.
func turnAnswer(conversationID, lastMessage int64, tail []byte) []byte {
	b := make([]byte, 0, len(tail)+48)
	b = append(b, `{"conversation_id":`...)
	b = strconv.AppendInt(b, conversationID, 10)
	b = append(b, `,"message_id":`...)
	b = strconv.AppendInt(b, lastMessage, 10)
	return append(b, tail...)
}

// answerTail is what follows the ids in TurnAnswer: members' own, after a comma unless it
// has none.
func answerTail(members []byte) []byte {
	rest := bytes.TrimLeft(members, " \t\r\n")
	if len(rest) == 0 || rest[0] != '{' {
		panic(fmt.Sprintf("store: turn answer members are not a JSON object: %.20q", members))
	}
	rest = rest[1:]
	if inner := bytes.TrimLeft(rest, " \t\r\n"); len(inner) > 0 && inner[0] == '}' {
		return rest
	}
	return append([]byte{','}, rest...)
}

// answerHead is TurnAnswer's head in SQL, over the conversation row c the turn updated.
const answerHead = `convert_to('{"conversation_id":' || c.id || ',"message_id":' || c.message_count, 'UTF8')`

// keyedAnswer is the idempotency key's response a keyed turn stores with it.
type keyedAnswer struct {
	key    string
	status int
	tail   []byte
}

func (s *Store) saveTurn(ctx context.Context, userID, conversationID int64, title string, msgs []Message, answer *keyedAnswer) (int64, int64, error) {
	turn := make([]storedMessage, len(msgs))
	for i, m := range msgs {
		switch m.Role {
		case RoleUser, RoleAssistant, RoleTool:
		default:
			return 0, 0, fmt.Errorf("save turn: message %d: role %q is not %s, %s or %s", i, m.Role, RoleUser, RoleAssistant, RoleTool)
		}
		turn[i] = storedMessage{Role: m.Role, Content: m.Content, ToolCalls: m.ToolCalls, ToolCallID: m.ToolCallID}
	}
	raw, err := json.Marshal(turn)
	if err != nil {
		return 0, 0, fmt.Errorf("save turn: %w", err)
	}
	// $1 is the conversation id, or the new conversation's title. Its row numbers the messages:
	// the UPDATE's row lock orders two turns of one conversation.
	conv := `UPDATE conversations SET updated_at = now(), message_count = message_count + $3
		WHERE id = $1 AND user_id = $2 RETURNING id, message_count`
	var first any = conversationID
	if conversationID == 0 {
		conv = `INSERT INTO conversations (user_id, title, message_count) VALUES ($2, $1, $3) RETURNING id, message_count`
		first = title
	}
	args := []any{first, userID, int64(len(msgs)), string(raw)}
	keyed := ""
	if answer != nil {
		keyed = `, k AS (
		UPDATE idempotency_keys SET status = $6, location = '', body = ` + answerHead + ` || $7::bytea
		FROM c WHERE user_id = $2 AND key = $5)`
		args = append(args, answer.key, answer.status, answer.tail)
	}
	var id, last int64
	err = s.db.QueryRow(ctx, `WITH c AS (`+conv+`), t AS (
		INSERT INTO turns (conversation_id, first_message, messages)
		SELECT id, message_count - $3 + 1, $4 FROM c)`+keyed+`
		SELECT id, message_count FROM c`, args...).Scan(&id, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, ErrNotFound
	}
	if err != nil {
		return 0, 0, fmt.Errorf("save turn: %w", err)
	}
	return id, last, nil
}

// LoginLimits bounds login attempts in a sliding window.
type LoginLimits struct {
	Window     time.Duration
	PerIP      int // attempts (any outcome) per client address per window
	PerAccount int // failed attempts per account per window
}

// LoginAllowed reports whether another login attempt from ip for email is allowed.
// State lives in PostgreSQL, so the limit holds across replicas.
func (s *Store) LoginAllowed(ctx context.Context, ip, email string, l LoginLimits) (bool, error) {
	var ipCount, acctCount int
	err := s.db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM login_attempts WHERE key = $1 AND created_at > now() - make_interval(secs => $3)),
		(SELECT count(*) FROM login_attempts WHERE key = $2 AND NOT succeeded AND created_at > now() - make_interval(secs => $3))`,
		"ip:"+ip, "account:"+email, l.Window.Seconds()).Scan(&ipCount, &acctCount)
	if err != nil {
		return false, fmt.Errorf("login allowed: %w", err)
	}
	return ipCount < l.PerIP && acctCount < l.PerAccount, nil
}

// RecordLogin stores one login attempt under both keys and prunes expired rows for them.
func (s *Store) RecordLogin(ctx context.Context, ip, email string, succeeded bool, l LoginLimits) error {
	batch := &pgx.Batch{}
	batch.Queue("INSERT INTO login_attempts (key, succeeded) VALUES ($1, $3), ($2, $3)", "ip:"+ip, "account:"+email, succeeded)
	batch.Queue("DELETE FROM login_attempts WHERE key IN ($1, $2) AND created_at < now() - make_interval(secs => $3)",
		"ip:"+ip, "account:"+email, l.Window.Seconds())
	if err := s.db.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return nil
}
