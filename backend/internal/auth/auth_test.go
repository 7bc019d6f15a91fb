package auth

import (
	"testing"
	"time"
)

func TestVerifyCacheHonoursExpiry(t *testing.T) {
	now := time.Now()
	tok := &Tokens{Secret: []byte("0123456789abcdef0123456789abcdef"), TTL: time.Minute, Now: func() time.Time { return now }}
	s, err := tok.Issue(42, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // second call is served from the cache
		if id, ver, err := tok.Verify(s); err != nil || id != 42 || ver != 3 {
			t.Fatalf("verify %d: %d %v", i, id, err)
		}
	}
	now = now.Add(2 * time.Minute)
	if _, _, err := tok.Verify(s); err == nil {
		t.Fatal("expired token accepted from the cache")
	}
	other := &Tokens{Secret: []byte("another-secret-0123456789abcdef!"), TTL: time.Minute}
	if _, _, err := other.Verify(s); err == nil {
		t.Fatal("token accepted under another secret")
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse", 4)
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(h, "correct horse") || CheckPassword(h, "wrong") || CheckPasswordOrDummy("", "x", 4) {
		t.Fatal("bcrypt checks")
	}
}
