package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/auth"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// Input limits.
const (
	MaxEmailLen    = 254
	MinPasswordLen = 8
	MaxPasswordLen = 72 // bcrypt's limit, in bytes
	MaxMessageLen  = 4000
)

// ChatTimeout bounds one chat turn (all model calls and tools).
const ChatTimeout = 100 * time.Second

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type authResponse struct {
	Token string     `json:"token"`
	User  store.User `json:"user"`
}

func validEmail(e string) bool {
	if e == "" || len(e) > MaxEmailLen || strings.ContainsAny(e, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e {
		return false
	}
	_, domain, ok := strings.Cut(e, "@")
	return ok && domain != "" && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func (s *Server) signup(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if _, ok := s.decode(w, r, &c); !ok {
		return
	}
	c.Email = strings.TrimSpace(c.Email)
	if !validEmail(c.Email) {
		writeError(w, http.StatusBadRequest, "a valid email address is required")
		return
	}
	if utf8.RuneCountInString(c.Password) < MinPasswordLen {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("password must be at least %d characters", MinPasswordLen))
		return
	}
	if len(c.Password) > MaxPasswordLen {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("password must be at most %d bytes", MaxPasswordLen))
		return
	}
	hash, err := auth.HashPassword(c.Password, s.cfg.BcryptCost)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var u store.User
	err = s.write(r.Context(), func(st *store.Store) (err error) {
		u, err = st.CreateUser(r.Context(), c.Email, hash)
		return err
	})
	if errors.Is(err, store.ErrEmailTaken) {
		writeError(w, http.StatusConflict, "an account with this email already exists")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	token, err := s.tokens.Issue(u.ID, u.TokenVersion)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("user signed up", "request_id", RequestID(r.Context()), "user_id", u.ID)
	writeJSON(w, http.StatusCreated, authResponse{Token: token, User: u})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if _, ok := s.decode(w, r, &c); !ok {
		return
	}
	email := strings.ToLower(strings.TrimSpace(c.Email))
	if email == "" || c.Password == "" || len(email) > MaxEmailLen {
		writeError(w, http.StatusBadRequest, "email and password are required")
		return
	}
	ip := s.clientIP(r)
	ok, err := s.store.LoginAllowed(r.Context(), ip, email, s.limits)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.limits.Window.Seconds())))
		s.log.Warn("login rate limited", "request_id", RequestID(r.Context()), "client_ip", ip)
		writeError(w, http.StatusTooManyRequests, "too many login attempts; try again later")
		return
	}
	u, err := s.store.UserByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	good := auth.CheckPasswordOrDummy(u.PasswordHash, c.Password, s.cfg.BcryptCost) && u.ID != 0
	if err := s.store.RecordLogin(r.Context(), ip, email, good, s.limits); err != nil {
		s.fail(w, r, err)
		return
	}
	if !good {
		writeError(w, http.StatusUnauthorized, "invalid email or password")
		return
	}
	token, err := s.tokens.Issue(u.ID, u.TokenVersion)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, authResponse{Token: token, User: u})
}

// logout revokes every token of the caller (this one included), on every replica within
// versionCacheTTL.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	uid := userID(r.Context())
	if err := s.store.RevokeTokens(r.Context(), uid); err != nil {
		s.fail(w, r, err)
		return
	}
	s.versions.forget(uid)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]int64{"id": userID(r.Context())})
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	switch status {
	case "":
		status = store.StatusAll
	case store.StatusAll, store.StatusPending, store.StatusCompleted:
	default:
		writeError(w, http.StatusBadRequest, "status must be all, pending or completed")
		return
	}
	tasks, err := s.store.ListTasks(r.Context(), userID(r.Context()), status)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tasks)
}

type createTaskRequest struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

func checkTitle(t string) string {
	switch {
	case t == "":
		return "title is required"
	case utf8.RuneCountInString(t) > agent.MaxTitleLen:
		return fmt.Sprintf("title must be at most %d characters", agent.MaxTitleLen)
	case !utf8.ValidString(t):
		return "title must be valid UTF-8"
	}
	return ""
}

func checkDescription(d string) string {
	switch {
	case utf8.RuneCountInString(d) > agent.MaxDescriptionLen:
		return fmt.Sprintf("description must be at most %d characters", agent.MaxDescriptionLen)
	case !utf8.ValidString(d):
		return "description must be valid UTF-8"
	}
	return ""
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request) {
	var req createTaskRequest
	raw, ok := s.decode(w, r, &req)
	if !ok {
		return
	}
	key, ok := idempotencyKey(w, r)
	if !ok {
		return
	}
	req.Title = strings.TrimSpace(req.Title)
	if msg := checkTitle(req.Title); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if msg := checkDescription(req.Description); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	ctx, uid := r.Context(), userID(r.Context())
	if key == "" {
		var t store.Task
		err := s.write(ctx, func(st *store.Store) (err error) {
			t, err = st.CreateTask(ctx, uid, req.Title, req.Description)
			return err
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Location", taskLocation+strconv.FormatInt(t.ID, 10))
		writeJSON(w, http.StatusCreated, t)
		return
	}
	// The key and the task commit together: the key exists exactly when the task does. The
	// claim, the create and the key's response are one round trip; a retry creates nothing.
	resp, replay, err := s.store.CreateKeyedTask(ctx, uid, key, requestHash(r, raw), s.cfg.IdempotencyTTL,
		req.Title, req.Description, store.TaskAnswer{Status: http.StatusCreated, Location: taskLocation, Body: taskBody})
	switch {
	case keyConflict(w, err):
	case err != nil:
		s.fail(w, r, err)
	default:
		writeStored(w, resp, replay)
	}
}

// taskLocation is where a task is found: this and its id.
const taskLocation = "/api/tasks/"

// taskBody is a task as the API answers it.
func taskBody(t store.Task) []byte { return jsonBody(t) }

// pathID parses the {id} wildcard; any non-positive or non-numeric id is simply not found.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (s *Server) taskResult(w http.ResponseWriter, r *http.Request, t store.Task, err error, status int) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "task not found")
	case err != nil:
		s.fail(w, r, err)
	case status == http.StatusNoContent:
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, status, t)
	}
}

// taskByID adapts a store operation on one of the caller's tasks (get, delete) to a handler.
func (s *Server) taskByID(op func(ctx context.Context, userID, id int64) (store.Task, error), status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(r)
		if !ok {
			writeError(w, http.StatusNotFound, "task not found")
			return
		}
		t, err := op(r.Context(), userID(r.Context()), id)
		s.taskResult(w, r, t, err, status)
	}
}

// write runs one API write (one statement) so that a 503 is never a write (store.WriteOne):
// never as a plain autocommit statement, because when the request's deadline passes while the
// statement waits (on a lock, say), pgx gives up on the connection with a cancel request —
// which is racy: one that lands before the statement runs is lost, and PostgreSQL, which does
// not notice a vanished client while it waits, then commits the statement once the wait ends
// (measured: a table lock under load left such phantom tasks).
func (s *Server) write(ctx context.Context, fn func(st *store.Store) error) error {
	return s.store.WriteOne(ctx, fn)
}

// deleteTask is taskByID's operation for DELETE (see write).
func (s *Server) deleteTask(ctx context.Context, uid, id int64) (t store.Task, err error) {
	err = s.write(ctx, func(st *store.Store) (err error) {
		t, err = st.DeleteTask(ctx, uid, id)
		return err
	})
	return t, err
}

// restoreTask is taskByID's operation for POST …/restore (see write).
func (s *Server) restoreTask(ctx context.Context, uid, id int64) (t store.Task, err error) {
	err = s.write(ctx, func(st *store.Store) (err error) {
		t, err = st.RestoreTask(ctx, uid, id)
		return err
	})
	return t, err
}

type patchTaskRequest struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Completed   *bool   `json:"completed"`
}

func (s *Server) patchTask(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		writeError(w, http.StatusNotFound, "task not found")
		return
	}
	var req patchTaskRequest
	if _, ok := s.decode(w, r, &req); !ok {
		return
	}
	if req.Title == nil && req.Description == nil && req.Completed == nil {
		writeError(w, http.StatusBadRequest, "give at least one of title, description, completed")
		return
	}
	if req.Title != nil {
		t := strings.TrimSpace(*req.Title)
		if msg := checkTitle(t); msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		req.Title = &t
	}
	if req.Description != nil {
		if msg := checkDescription(*req.Description); msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
	}
	var t store.Task
	err := s.write(r.Context(), func(st *store.Store) (err error) {
		t, err = st.UpdateTask(r.Context(), userID(r.Context()), id,
			store.TaskPatch{Title: req.Title, Description: req.Description, Completed: req.Completed})
		return err
	})
	s.taskResult(w, r, t, err, http.StatusOK)
}

type chatRequest struct {
	Message        string `json:"message"`
	ConversationID *int64 `json:"conversation_id"`
	// SeenMessageID is the last message of the conversation this client has shown. The agent
	// reads the conversation only up to it, so "it", "yes" and "undo" mean what this person
	// saw, not what another tab added since.
	SeenMessageID *int64 `json:"seen_message_id"`
}

// chatAnswer is a chat turn's answer but for its ids, which store.TurnAnswer puts in front:
// {"conversation_id", "message_id", "reply", "tool_calls"}.
type chatAnswer struct {
	Reply     string             `json:"reply"`
	ToolCalls []agent.CallRecord `json:"tool_calls"`
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	raw, ok := s.decode(w, r, &req)
	if !ok {
		return
	}
	key, ok := idempotencyKey(w, r)
	if !ok {
		return
	}
	msg := strings.TrimSpace(req.Message)
	switch {
	case msg == "":
		writeError(w, http.StatusBadRequest, "message is required")
		return
	case utf8.RuneCountInString(msg) > MaxMessageLen || !utf8.ValidString(msg):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("message must be valid UTF-8 of at most %d characters", MaxMessageLen))
		return
	case req.ConversationID != nil && *req.ConversationID <= 0:
		writeError(w, http.StatusNotFound, "conversation not found")
		return
	}
	rctx := r.Context()
	uid := userID(rctx)
	// One transaction holds the whole turn: every tool write and the saved conversation commit
	// together or not at all, so the client is never told "failed" about a task that exists.
	// It holds a pool connection while the model thinks, so at most half the pool serves chat
	// turns and the rest stays for the task API. Waiting for either is bounded by the request's
	// deadline (503 beyond it).
	select {
	case s.chatSlots <- struct{}{}:
		defer func() { <-s.chatSlots }()
	case <-rctx.Done():
		s.fail(w, r, rctx.Err())
		return
	}
	tx, err := s.store.Begin(rctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// From here the turn runs to its end even if the client goes away (a retry with the same
	// Idempotency-Key then gets its answer); only ChatTimeout or a cut shutdown stops it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(rctx), ChatTimeout)
	defer cancel()
	defer context.AfterFunc(s.stopped, cancel)()
	defer tx.Rollback(context.WithoutCancel(ctx))
	fail := func(err error) {
		if errors.Is(err, context.Canceled) && s.stopped.Err() != nil {
			err = fmt.Errorf("%w: server stopping", context.DeadlineExceeded) // shutting down: 503
		}
		s.fail(w, r.WithContext(ctx), err)
	}

	// The key's claim travels with the history read (one round trip for both), and is settled
	// before anything is done with what that read found. So does the task list the brain will
	// read first, when it knows that before the history.
	var claim *store.Claim
	if key != "" {
		claim = tx.QueueClaim(uid, key, requestHash(r, raw), s.cfg.IdempotencyTTL)
	}
	plan := s.brain.Plan(msg)
	var convID int64
	var history []store.Message
	var historyErr error
	title := ""
	if req.ConversationID != nil {
		if status, ok := plan.FirstRead(); ok {
			tx.QueueList(uid, status)
		}
		convID = *req.ConversationID
		history, historyErr = tx.History(ctx, uid, convID, store.Window{
			Messages: HistoryLimit, Seen: req.SeenMessageID, Turns: plan.Turns()})
	} else {
		title = msg
		if utf8.RuneCountInString(title) > 80 {
			title = string([]rune(title)[:80])
		}
	}
	if claim != nil {
		replay, err := claim.Outcome(ctx)
		switch {
		case keyConflict(w, err):
			return
		case err != nil:
			fail(err)
			return
		case replay != nil:
			writeStored(w, *replay, true)
			return
		}
	}
	switch {
	case errors.Is(historyErr, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "conversation not found")
		return
	case historyErr != nil:
		fail(historyErr)
		return
	}
	tools := &agent.Tools{Store: tx, UserID: uid}
	reply, turn, err := plan.Respond(ctx, history, tools)
	if err != nil {
		// Rolled back: whatever the tools did in this turn is undone, as the answer says.
		if errors.Is(err, context.DeadlineExceeded) && s.stopped.Err() == nil {
			s.log.Error("chat turn timed out", "request_id", RequestID(ctx))
			writeError(w, http.StatusGatewayTimeout, "the assistant took too long; nothing was changed, try again")
			return
		}
		if errors.Is(err, agent.ErrLLM) && s.stopped.Err() == nil {
			s.log.Error("language model failed", "request_id", RequestID(ctx), "err", err.Error(), "tool_calls", len(tools.Calls))
			writeError(w, http.StatusBadGateway, "the language model is unavailable; nothing was changed, try again later")
			return
		}
		fail(err)
		return
	}
	msgs := append([]store.Message{{Role: store.RoleUser, Content: msg}}, turn...)
	calls := tools.Calls
	if calls == nil {
		calls = []agent.CallRecord{}
	}
	// The turn's one last statement goes with COMMIT (store.Tx.CommitWith): the saved turn,
	// and with an Idempotency-Key the answer stored as the key's response.
	members := jsonBody(chatAnswer{Reply: reply, ToolCalls: calls})
	var resp store.Response
	err = tx.CommitWith(ctx, func(last *store.Tx) (err error) {
		if key != "" {
			resp, err = last.SaveKeyedTurn(ctx, uid, convID, title, msgs, key, http.StatusOK, members)
			return err
		}
		id, lastID, err := last.SaveTurn(ctx, uid, convID, title, msgs)
		resp = store.Response{Status: http.StatusOK, Body: store.TurnAnswer(id, lastID, members)}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "conversation not found")
		return
	}
	if err != nil {
		fail(err)
		return
	}
	writeStored(w, resp, false)
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) {
	convs, err := s.store.ListConversations(r.Context(), userID(r.Context()))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, convs)
}

func (s *Server) conversationMessages(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		writeError(w, http.StatusNotFound, "conversation not found")
		return
	}
	msgs, err := s.store.Messages(r.Context(), userID(r.Context()), id, 1000)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "conversation not found")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, msgs)
}
