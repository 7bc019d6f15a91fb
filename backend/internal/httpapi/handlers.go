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
	if !s.decode(w, r, &c) {
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
		s.internalError(w, r, err)
		return
	}
	u, err := s.store.CreateUser(r.Context(), c.Email, hash)
	if errors.Is(err, store.ErrEmailTaken) {
		writeError(w, http.StatusConflict, "an account with this email already exists")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	token, err := s.tokens.Issue(u.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	s.log.Info("user signed up", "request_id", RequestID(r.Context()), "user_id", u.ID)
	writeJSON(w, http.StatusCreated, authResponse{Token: token, User: u})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if !s.decode(w, r, &c) {
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
		s.internalError(w, r, err)
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
		s.internalError(w, r, err)
		return
	}
	good := auth.CheckPasswordOrDummy(u.PasswordHash, c.Password, s.cfg.BcryptCost) && u.ID != 0
	if err := s.store.RecordLogin(r.Context(), ip, email, good, s.limits); err != nil {
		s.internalError(w, r, err)
		return
	}
	if !good {
		writeError(w, http.StatusUnauthorized, "invalid email or password")
		return
	}
	token, err := s.tokens.Issue(u.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, authResponse{Token: token, User: u})
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
		s.internalError(w, r, err)
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
	case len(t) > agent.MaxTitleLen:
		return fmt.Sprintf("title must be at most %d bytes", agent.MaxTitleLen)
	case !utf8.ValidString(t):
		return "title must be valid UTF-8"
	}
	return ""
}

func checkDescription(d string) string {
	switch {
	case len(d) > agent.MaxDescriptionLen:
		return fmt.Sprintf("description must be at most %d bytes", agent.MaxDescriptionLen)
	case !utf8.ValidString(d):
		return "description must be valid UTF-8"
	}
	return ""
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request) {
	var req createTaskRequest
	if !s.decode(w, r, &req) {
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
	t, err := s.store.CreateTask(r.Context(), userID(r.Context()), req.Title, req.Description)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/tasks/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, t)
}

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
		s.internalError(w, r, err)
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
	if !s.decode(w, r, &req) {
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
	t, err := s.store.UpdateTask(r.Context(), userID(r.Context()), id,
		store.TaskPatch{Title: req.Title, Description: req.Description, Completed: req.Completed})
	s.taskResult(w, r, t, err, http.StatusOK)
}

type chatRequest struct {
	Message        string `json:"message"`
	ConversationID *int64 `json:"conversation_id"`
}

type chatResponse struct {
	ConversationID int64              `json:"conversation_id"`
	Reply          string             `json:"reply"`
	ToolCalls      []agent.CallRecord `json:"tool_calls"`
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if !s.decode(w, r, &req) {
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
	}
	ctx := r.Context()
	uid := userID(ctx)
	var convID int64
	var history []store.Message
	title := ""
	if req.ConversationID != nil {
		convID = *req.ConversationID
		var err error
		history, err = s.store.Messages(ctx, uid, convID, HistoryLimit)
		if errors.Is(err, store.ErrNotFound) || convID == 0 {
			writeError(w, http.StatusNotFound, "conversation not found")
			return
		}
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		// A window must start at a user message so tool results are never orphaned.
		for len(history) > 0 && history[0].Role != "user" {
			history = history[1:]
		}
	} else {
		title = msg
		if utf8.RuneCountInString(title) > 80 {
			title = string([]rune(title)[:80])
		}
	}
	tools := &agent.Tools{Store: s.store, UserID: uid}
	// Bounded below the server's WriteTimeout, however many model round trips the brain makes.
	bctx, cancel := context.WithTimeout(ctx, ChatTimeout)
	defer cancel()
	reply, turn, err := s.brain.Respond(bctx, history, msg, tools)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			s.log.Error("chat turn timed out", "request_id", RequestID(ctx))
			writeError(w, http.StatusGatewayTimeout, "the assistant took too long; try again")
			return
		}
		if errors.Is(err, agent.ErrLLM) {
			s.log.Error("language model failed", "request_id", RequestID(ctx), "err", err.Error())
			writeError(w, http.StatusBadGateway, "the language model is unavailable; try again later")
			return
		}
		s.internalError(w, r, err)
		return
	}
	msgs := append([]store.Message{{Role: "user", Content: msg}}, turn...)
	convID, err = s.store.SaveTurn(ctx, uid, convID, title, msgs)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "conversation not found")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	calls := tools.Calls
	if calls == nil {
		calls = []agent.CallRecord{}
	}
	writeJSON(w, http.StatusOK, chatResponse{ConversationID: convID, Reply: reply, ToolCalls: calls})
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) {
	convs, err := s.store.ListConversations(r.Context(), userID(r.Context()))
	if err != nil {
		s.internalError(w, r, err)
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
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, msgs)
}
