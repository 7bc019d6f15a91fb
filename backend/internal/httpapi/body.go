package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/input"
)

// MaxBodyBytes bounds every request body (413 above).
const MaxBodyBytes = 1 << 20

// multilineFields are the request fields that may hold newlines and tabs.
var multilineFields = map[string]bool{"description": true, "message": true}

// DecodeJSON reads exactly one JSON object into v with a 1 MiB limit and no unknown fields, and
// rejects any string in it that is not valid UTF-8 or holds control characters. It returns the
// status and message to answer on failure.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) (int, string) {
	_, status, msg := readJSON(w, r, v)
	return status, msg
}

// readJSON is DecodeJSON that also returns the raw body (for idempotency keys).
func readJSON(w http.ResponseWriter, r *http.Request, v any) ([]byte, int, string) {
	raw, status, msg := readBody(w, r)
	if status != 0 {
		return nil, status, msg
	}
	if status, msg := decodeStrict(raw, v); status != 0 {
		return nil, status, msg
	}
	// The decoder has replaced invalid UTF-8 and lone surrogates with U+FFFD and turned \u0000
	// into a NUL: judge what the client actually sent.
	if msg := checkRawStrings(raw, fieldsOf(v)); msg != "" {
		return nil, http.StatusBadRequest, msg
	}
	return raw, 0, ""
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	var raw []byte
	var err error
	if n := r.ContentLength; n >= 0 && n <= MaxBodyBytes {
		// Exactly one buffer of the declared size: growing one would briefly hold two or three.
		raw = make([]byte, n)
		_, err = io.ReadFull(body, raw)
	} else {
		raw, err = io.ReadAll(body) // unknown length: bounded by MaxBytesReader
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, "request body too large (limit 1 MiB)"
		}
		return nil, http.StatusBadRequest, "could not read the request body"
	}
	return raw, 0, ""
}

// decodeStrict decodes raw into v. json.Unmarshal works on raw in place (a json.Decoder would
// buffer a second copy of the body), so a body costs its raw bytes plus its decoded strings
// (BodyFactor). Unknown fields are found by checkRawStrings.
func decodeStrict(raw []byte, v any) (int, string) {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return 0, ""
	}
	var ute *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(raw)) == 0:
		return http.StatusBadRequest, "request body must be a JSON object"
	case errors.As(err, &ute):
		if ute.Field != "" {
			return http.StatusBadRequest, "field " + ute.Field + " has the wrong type"
		}
		return http.StatusBadRequest, "request body must be a JSON object"
	}
	// Rare and already refused: only now is it worth a decoder to say why.
	var first json.RawMessage
	if json.NewDecoder(bytes.NewReader(raw)).Decode(&first) == nil {
		return http.StatusBadRequest, "malformed JSON: trailing data after the object"
	}
	return http.StatusBadRequest, "malformed JSON"
}

// fieldsOf lists the JSON field names of the struct v points to, lower-cased (encoding/json
// matches names case-insensitively).
func fieldsOf(v any) map[string]bool {
	t := reflect.TypeOf(v)
	if f, ok := knownFields.Load(t); ok {
		return f.(map[string]bool)
	}
	out := map[string]bool{}
	if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		st := t.Elem()
		for i := 0; i < st.NumField(); i++ {
			name, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = st.Field(i).Name
			}
			out[strings.ToLower(name)] = true
		}
	}
	knownFields.Store(t, out)
	return out
}

var knownFields sync.Map // reflect.Type → map[string]bool

// checkRawStrings walks raw, a JSON value already known to be valid, and checks every string
// in it as sent: it returns "<field> must ..." for the first bad one, or "unknown field" for a
// top-level name not in known, "" if all is fine.
func checkRawStrings(raw []byte, known map[string]bool) string {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ""
	}
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] == '}' {
			return ""
		}
		if raw[i] == ',' {
			i++
			continue
		}
		end, problem := scanString(raw, i, false)
		if problem != "" {
			return "field names " + problem
		}
		var field string
		_ = json.Unmarshal(raw[i:end], &field) // valid: the decoder accepted it
		if !known[strings.ToLower(field)] {
			return "unknown field " + strconv.Quote(field)
		}
		field = strings.ToLower(field)
		i = skipSpace(raw, end) + 1 // ':'
		i = skipSpace(raw, i)
		end, problem = scanValue(raw, i, multilineFields[field])
		if problem != "" {
			return field + " " + problem
		}
		i = end
	}
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// scanValue checks the (valid) JSON value at raw[i] and returns the index after it.
func scanValue(raw []byte, i int, multiline bool) (int, string) {
	switch raw[i] {
	case '"':
		return scanString(raw, i, multiline)
	case '{', '[':
		depth := 0
		for i < len(raw) {
			switch raw[i] {
			case '"':
				end, problem := scanString(raw, i, false)
				if problem != "" {
					return end, problem
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, ""
				}
			}
			i++
		}
		return i, ""
	default: // number, true, false, null
		for i < len(raw) && !strings.ContainsRune(",}] \t\r\n", rune(raw[i])) {
			i++
		}
		return i, ""
	}
}

// scanString checks the JSON string literal starting at raw[i] (the opening quote), escapes
// included, and returns the index after its closing quote.
func scanString(raw []byte, i int, multiline bool) (int, string) {
	problem := ""
	note := func(p string) {
		if problem == "" {
			problem = p
		}
	}
	const ctrl, utf = "must not contain control characters", "must be valid UTF-8"
	j := i + 1
	for j < len(raw) {
		c := raw[j]
		switch {
		case c == '"':
			return j + 1, problem
		case c == '\\' && j+1 < len(raw):
			e := raw[j+1]
			if e != 'u' {
				switch e {
				case 'n', 't':
					if !multiline {
						note(ctrl)
					}
				case 'r', 'b', 'f':
					note(ctrl)
				}
				j += 2
				continue
			}
			cp, ok := hex4(raw, j+2)
			j += 6
			if !ok {
				note(utf)
				continue
			}
			switch {
			case cp >= 0xd800 && cp < 0xdc00: // high surrogate: a low one must follow
				if lo, ok := hex4(raw, j+2); ok && j+1 < len(raw) && raw[j] == '\\' && raw[j+1] == 'u' && lo >= 0xdc00 && lo < 0xe000 {
					j += 6
				} else {
					note(utf)
				}
			case cp >= 0xdc00 && cp < 0xe000:
				note(utf)
			case input.Control(rune(cp), multiline):
				note(ctrl)
			}
		default:
			r, size := utf8.DecodeRune(raw[j:])
			if r == utf8.RuneError && size <= 1 {
				note(utf)
			} else if input.Control(r, multiline) {
				note(ctrl)
			}
			j += max(size, 1)
		}
	}
	return j, problem
}

func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	var v rune
	for _, c := range raw[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// decode reads the body into v or answers the error; it returns the raw body (nil on failure).
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	raw, status, msg := readJSON(w, r, v)
	if status != 0 {
		writeError(w, status, msg)
		return nil, false
	}
	return raw, true
}
