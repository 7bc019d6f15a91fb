package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzDecodeJSON feeds arbitrary bodies to the request decoder of every request type: it must
// never panic and must answer only success, 400 or 413.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"title":"buy milk"}`, `{"title":"a","description":"b"}`, `{"title":`, `[]`, `null`, ``, `{}`,
		`{"title":"a"} trailing`, `{"title":"a","x":1}`, `{"completed":"yes"}`, `{"message":"hi","conversation_id":1}`,
		`{"conversation_id":-1e400}`, `{"email":"a@b.c","password":"\u0000"}`, "\xff\xfe", `{"title":"\ud800"}`,
		`{"title":{"nested":[1,2,{"deep":true}]}}`, `   {"title" : "spaces"}   `,
	} {
		f.Add([]byte(seed))
	}
	targets := []func() any{
		func() any { return &createTaskRequest{} }, func() any { return &patchTaskRequest{} },
		func() any { return &chatRequest{} }, func() any { return &credentials{} },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, newV := range targets {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			status, msg := DecodeJSON(rec, req, newV())
			switch status {
			case 0:
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
				if msg == "" {
					t.Fatalf("status %d without message", status)
				}
			default:
				t.Fatalf("unexpected status %d for %q", status, body)
			}
		}
	})
}

func TestDecodeJSONLimit(t *testing.T) {
	body := append([]byte(`{"title":"`), bytes.Repeat([]byte("a"), MaxBodyBytes)...)
	body = append(body, `"}`...)
	rec := httptest.NewRecorder()
	status, _ := DecodeJSON(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)), &createTaskRequest{})
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", status)
	}
}
