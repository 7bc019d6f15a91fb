package httpapi

import (
	"crypto/sha256"
	"errors"
	"net/http"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// IdempotencyHeader names the client's key for one user action. A retry of that action with
// the same key gets the first response again and changes nothing.
const IdempotencyHeader = "Idempotency-Key"

// ReplayedHeader marks a response that repeats the first response to an Idempotency-Key.
const ReplayedHeader = "Idempotent-Replayed"

// MaxIdempotencyKeyLen bounds a key (a UUID is 36).
const MaxIdempotencyKeyLen = 255

// idempotencyKey returns the request's key ("" when none) or answers 400 and returns ok=false.
func idempotencyKey(w http.ResponseWriter, r *http.Request) (key string, ok bool) {
	vals := r.Header.Values(IdempotencyHeader)
	if len(vals) == 0 {
		return "", true
	}
	key = vals[0]
	valid := len(vals) == 1 && key != "" && len(key) <= MaxIdempotencyKeyLen
	for i := 0; valid && i < len(key); i++ {
		valid = key[i] > 0x20 && key[i] < 0x7f
	}
	if !valid {
		writeError(w, http.StatusBadRequest, IdempotencyHeader+" must be one value of 1 to 255 printable ASCII characters")
		return "", false
	}
	return key, true
}

// requestHash identifies what a key was first used for: a key sent again with another route
// or body is a client bug, not a retry.
func requestHash(r *http.Request, raw []byte) []byte {
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\x00"))
	h.Write(raw)
	return h.Sum(nil)
}

// writeStored answers a response kept for an idempotency key (or about to be kept).
func writeStored(w http.ResponseWriter, resp store.Response, replayed bool) {
	if resp.Location != "" {
		w.Header().Set("Location", resp.Location)
	}
	if replayed {
		w.Header().Set(ReplayedHeader, "true")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// keyConflict answers a key reused for a different request; it reports whether err was that.
func keyConflict(w http.ResponseWriter, err error) bool {
	if !errors.Is(err, store.ErrKeyReused) {
		return false
	}
	writeError(w, http.StatusUnprocessableEntity, IdempotencyHeader+" was already used for a different request")
	return true
}
