package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrKeyReused means an idempotency key was sent again with a different request.
var ErrKeyReused = errors.New("idempotency key reused with a different request")

// Response is the first answer given to an idempotent request.
type Response struct {
	Status   int
	Location string
	Body     []byte
}

// ClaimKey reserves userID's key for the request whose hash is given, inside the transaction
// that will perform the write. It returns nil when the caller now owns the key (and must store
// its response before committing), the stored first response when the key was already used for
// the same request, or ErrKeyReused. A concurrent request with the same key waits here until
// the first one commits (then it gets the stored response) or rolls back (then it proceeds):
// PostgreSQL's unique index serialises them. Keys older than ttl are forgotten: such a key is
// claimed anew, in the same statement, so the claim costs one round trip.
func (t *Tx) ClaimKey(ctx context.Context, userID int64, key string, hash []byte, ttl time.Duration) (*Response, error) {
	return t.QueueClaim(userID, key, hash, ttl).Outcome(ctx)
}

// QueueClaim is ClaimKey without a round trip of its own: the claim goes to PostgreSQL with
// the transaction's next statement (BEGIN, the claim, the statement), and Outcome, called
// before anything is done with that statement's result, says what ClaimKey would have. The
// statement must be one that a retry may run and then roll back: a read, or a write that
// the caller undoes by not committing when Outcome finds the key used. When the claim fails,
// the statement fails too (PostgreSQL skips it); Outcome gives the claim's own error.
// Outcome sends the claim itself when no statement has carried it.
func (t *Tx) QueueClaim(userID int64, key string, hash []byte, ttl time.Duration) *Claim {
	c := &Claim{tx: t, userID: userID, key: key, hash: hash, ttl: ttl}
	if lt := t.tx; t.db == DB(lt) && !lt.begun && lt.conn != nil {
		lt.ahead = c
	}
	return c
}

// claimSQL claims a key: a new row, or an expired one renewed (its request hash and response
// reset). A live key is left as it is, and the statement then changes no row.
const claimSQL = `INSERT INTO idempotency_keys AS k (user_id, key, request_hash) VALUES ($1, $2, $3)
	ON CONFLICT (user_id, key) DO UPDATE
	SET request_hash = excluded.request_hash, status = 0, location = '', body = '', created_at = now()
	WHERE k.created_at < now() - make_interval(secs => $4)`

// Claim is a key claimed by QueueClaim.
type Claim struct {
	tx      *Tx
	userID  int64
	key     string
	hash    []byte
	ttl     time.Duration
	sent    bool
	claimed bool // the statement inserted or renewed the key's row
	err     error
}

// args are claimSQL's.
func (c *Claim) args() []any { return []any{c.userID, c.key, c.hash, c.ttl.Seconds()} }

// settle records the claim statement's result.
func (c *Claim) settle(tag pgconn.CommandTag, err error) {
	c.sent, c.claimed, c.err = true, err == nil && tag.RowsAffected() == 1, err
}

// send sends the claim as a statement of its own (with BEGIN, if the transaction has not
// begun), when no statement carried it.
func (c *Claim) send(ctx context.Context) {
	if lt := c.tx.tx; lt.ahead == c {
		lt.ahead = nil
	}
	c.settle(c.tx.db.Exec(ctx, claimSQL, c.args()...))
}

// Outcome is ClaimKey's answer for this claim: nil when the caller owns the key, the stored
// response to replay, or an error (ErrKeyReused among them).
func (c *Claim) Outcome(ctx context.Context) (*Response, error) {
	if !c.sent {
		c.send(ctx)
	}
	if c.err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", c.err)
	}
	if c.claimed {
		return nil, nil
	}
	var stored []byte
	var r Response
	if err := c.tx.db.QueryRow(ctx, `SELECT request_hash, status, location, body FROM idempotency_keys
		WHERE user_id = $1 AND key = $2`, c.userID, c.key).Scan(&stored, &r.Status, &r.Location, &r.Body); err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	if !bytes.Equal(stored, c.hash) {
		return nil, ErrKeyReused
	}
	return &r, nil
}

// SaveResponse records the response of the request that claimed key.
func (t *Tx) SaveResponse(ctx context.Context, userID int64, key string, r Response) error {
	if _, err := t.db.Exec(ctx, `UPDATE idempotency_keys SET status = $3, location = $4, body = $5
		WHERE user_id = $1 AND key = $2`, userID, key, r.Status, r.Location, r.Body); err != nil {
		return fmt.Errorf("save idempotent response: %w", err)
	}
	return nil
}

// PruneKeys deletes idempotency keys older than ttl (of every user) and returns how many.
func (s *Store) PruneKeys(ctx context.Context, ttl time.Duration) (int64, error) {
	// Planned for this call's cutoff (an unnamed statement), whatever the session's plan cache
	// mode: a generic plan of a range guesses a third of the table and may scan all of it.
	tag, err := s.db.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)`,
		pgx.QueryExecModeExec, ttl.Seconds())
	if err != nil {
		return 0, fmt.Errorf("prune idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
