package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Handler serves srv over streamable HTTP in stateless mode: no session lives in a replica, so
// any replica answers any request, as for the REST API. Authentication is the caller's job
// (it wraps this handler); Handler bounds the body to maxBody bytes (413) and answers a body
// that is not JSON-RPC with a JSON-RPC error, never a plain-text 400 or a 500.
func Handler(srv *mcp.Server, maxBody int64, log *slog.Logger) http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		Stateless: true,
		// One JSON answer per POST: the tools are short database calls, and plain JSON passes
		// every proxy unchanged.
		JSONResponse:        true,
		Logger:              warnLogger(log),
		MaxRequestBodyBytes: maxBody,
	})
	tooLarge := fmt.Sprintf("request body too large (limit %d bytes)", maxBody)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r) // GET and DELETE: 405 in stateless mode
			return
		}
		if r.ContentLength > maxBody {
			writeRPCError(w, http.StatusRequestEntityTooLarge, nil, jsonrpc.CodeInvalidRequest, tooLarge)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			writeRPCError(w, http.StatusRequestEntityTooLarge, nil, jsonrpc.CodeInvalidRequest, tooLarge)
			return
		case err != nil:
			writeRPCError(w, http.StatusBadRequest, nil, jsonrpc.CodeParseError, "could not read the request body")
			return
		}
		id, code, msg := checkJSONRPC(body)
		if code != 0 {
			writeRPCError(w, http.StatusBadRequest, nil, code, msg)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rw := &rpcErrorWriter{ResponseWriter: w, id: id}
		h.ServeHTTP(rw, r)
		rw.finish()
	})
}

// checkJSONRPC returns the JSON-RPC error code and message for a body that is not one JSON-RPC
// message or a batch of them (code 0 when it is), and the id of a single request. It is a cheap
// first filter with encoding/json; whatever passes it and still fails the SDK's stricter decoding
// comes back from the SDK as a refusal that rpcErrorWriter turns into a JSON-RPC error.
func checkJSONRPC(body []byte) (id any, code int, msg string) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(body, &batch); err != nil {
			return nil, jsonrpc.CodeParseError, "parse error: the body is not valid JSON"
		}
		if len(batch) == 0 {
			return nil, jsonrpc.CodeInvalidRequest, "invalid request: an empty batch"
		}
		for _, m := range batch {
			if _, ok := messageID(m); !ok {
				return nil, jsonrpc.CodeInvalidRequest, errNotJSONRPC
			}
		}
		return nil, 0, ""
	}
	if !json.Valid(body) {
		return nil, jsonrpc.CodeParseError, "parse error: the body is not valid JSON"
	}
	id, ok := messageID(body)
	if !ok {
		return nil, jsonrpc.CodeInvalidRequest, errNotJSONRPC
	}
	return id, 0, ""
}

const errNotJSONRPC = `invalid request: not a JSON-RPC 2.0 message (need "jsonrpc": "2.0" and a method or an id)`

// messageID reports whether m looks like a JSON-RPC 2.0 message, and its id if it has one.
func messageID(m json.RawMessage) (any, bool) {
	var w struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  json.RawMessage `json:"method"`
		ID      any             `json:"id"`
	}
	if err := json.Unmarshal(m, &w); err != nil || w.JSONRPC != "2.0" || (w.Method == nil && w.ID == nil) {
		return nil, false
	}
	switch w.ID.(type) {
	case nil, string, float64:
		return w.ID, true
	default:
		return nil, false
	}
}

// rpcErrorWriter turns the SDK's plain-text refusals of a well-formed request (an unsupported
// method, a wrong Content-Type or Accept header) into JSON-RPC errors with the same status, so
// a client always gets JSON-RPC back from a POST.
type rpcErrorWriter struct {
	http.ResponseWriter
	id      any
	status  int // set when the answer is being rewritten
	message bytes.Buffer
}

func (w *rpcErrorWriter) WriteHeader(code int) {
	ct := w.Header().Get("Content-Type")
	if code >= 400 && w.status == 0 && (ct == "" || strings.HasPrefix(ct, "text/plain")) {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *rpcErrorWriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		if w.message.Len() < 512 {
			w.message.Write(b)
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *rpcErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *rpcErrorWriter) finish() {
	if w.status == 0 {
		return
	}
	code := jsonrpc.CodeInvalidRequest
	msg := strings.TrimSpace(w.message.String())
	if strings.Contains(msg, "not handled") {
		code = jsonrpc.CodeMethodNotFound
	}
	writeRPCError(w.ResponseWriter, w.status, w.id, code, msg)
}

// writeRPCError answers a JSON-RPC error (id nil: the request could not be read).
func writeRPCError(w http.ResponseWriter, status int, id any, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"jsonrpc": "2.0",
		"id":      id,
		"error":   map[string]any{"code": code, "message": msg},
	})
}

// warnLogger passes the SDK's warnings and errors to log and drops its per-session info lines:
// stateless mode connects a session for every request.
func warnLogger(log *slog.Logger) *slog.Logger {
	if log == nil {
		return nil
	}
	return slog.New(minLevel{log.Handler(), slog.LevelWarn}).With("component", "mcp")
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(as), m.min}
}
func (m minLevel) WithGroup(g string) slog.Handler { return minLevel{m.Handler.WithGroup(g), m.min} }
