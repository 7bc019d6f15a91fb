// Package auth issues and verifies HS256 JWTs and hashes passwords with bcrypt.
package auth

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
)

// Issuer is the iss claim of every token.
const Issuer = "todo-chatbot"

// ErrInvalidToken covers every rejected token (bad signature, alg, expiry, claims).
var ErrInvalidToken = errors.New("invalid token")

// Tokens signs and verifies access tokens.
type Tokens struct {
	Secret []byte
	TTL    time.Duration
	Now    func() time.Time

	// Verified tokens are remembered (signature checks are deterministic for one secret), so
	// a client's repeated requests skip JSON decoding and HMAC; expiry is still checked on
	// every use. Bounded: the cache is dropped when it reaches maxCached entries.
	mu    sync.RWMutex
	cache map[string]verified
}

type verified struct {
	userID  int64
	version int64
	exp     time.Time
}

// claims are the registered claims plus ver, the user's token version when the token was
// issued: logging out bumps the user's version, which revokes every older token.
type claims struct {
	jwt.RegisteredClaims
	Version int64 `json:"ver"`
}

const maxCached = 10000

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Issue returns a signed token for userID carrying the user's current token version.
func (t *Tokens) Issue(userID, version int64) (string, error) {
	now := t.now()
	c := claims{RegisteredClaims: jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(userID, 10),
		Issuer:    Issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.TTL)),
	}, Version: version}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.Secret)
}

// Verify checks signature (HS256 only), expiry and issuer, and returns the user id and the
// token version (which the caller compares with the user's current one).
func (t *Tokens) Verify(token string) (userID, version int64, err error) {
	t.mu.RLock()
	v, ok := t.cache[token]
	t.mu.RUnlock()
	if ok {
		if t.now().Before(v.exp) {
			return v.userID, v.version, nil
		}
		return 0, 0, ErrInvalidToken
	}
	v, err = t.verify(token)
	if err != nil {
		return 0, 0, err
	}
	t.mu.Lock()
	if t.cache == nil || len(t.cache) >= maxCached {
		t.cache = make(map[string]verified)
	}
	t.cache[token] = v
	t.mu.Unlock()
	return v.userID, v.version, nil
}

func (t *Tokens) verify(token string) (verified, error) {
	var claims claims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.Secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(Issuer),
		jwt.WithTimeFunc(t.now),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		return verified{}, ErrInvalidToken
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return verified{}, ErrInvalidToken
	}
	// Same leeway as the parser: valid until exp + 5 s.
	return verified{userID: id, version: claims.Version, exp: claims.ExpiresAt.Add(5 * time.Second)}, nil
}

// HashPassword hashes pw with bcrypt at cost.
func HashPassword(pw string, cost int) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	return string(b), err
}

// CheckPassword reports whether pw matches hash.
func CheckPassword(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// dummyHashes holds, per cost, a hash compared against when the account does not exist, so
// that unknown emails and wrong passwords take the same time.
var dummyHashes sync.Map // int -> []byte

// CheckPasswordOrDummy runs a bcrypt comparison at cost even when hash is empty, and reports
// false then.
func CheckPasswordOrDummy(hash, pw string, cost int) bool {
	if hash != "" {
		return CheckPassword(hash, pw)
	}
	h, ok := dummyHashes.Load(cost)
	if !ok {
		b, err := bcrypt.GenerateFromPassword([]byte("not-a-real-password"), cost)
		if err != nil {
			return false
		}
		h, _ = dummyHashes.LoadOrStore(cost, b)
	}
	_ = bcrypt.CompareHashAndPassword(h.([]byte), []byte(pw))
	return false
}
