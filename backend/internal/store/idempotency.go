package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
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
// that will perform the write. It returns nil when the caller now owns the key (and must call
// SaveResponse before committing), the stored first response when the key was already used for
// the same request, or ErrKeyReused. A concurrent request with the same key waits here until
// the first one commits (then it gets the stored response) or rolls back (then it proceeds):
// PostgreSQL's unique index serialises them. Keys older than ttl are forgotten: such a key is
// claimed anew, in the same statement, so the claim costs one round trip.
func (t *Tx) ClaimKey(ctx context.Context, userID int64, key string, hash []byte, ttl time.Duration) (*Response, error) {
	tag, err := t.db.Exec(ctx, `INSERT INTO idempotency_keys AS k (user_id, key, request_hash) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, key) DO UPDATE
		SET request_hash = excluded.request_hash, status = 0, location = '', body = '', created_at = now()
		WHERE k.created_at < now() - make_interval(secs => $4)`,
		userID, key, hash, ttl.Seconds())
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	var stored []byte
	var r Response
	if err := t.db.QueryRow(ctx, `SELECT request_hash, status, location, body FROM idempotency_keys
		WHERE user_id = $1 AND key = $2`, userID, key).Scan(&stored, &r.Status, &r.Location, &r.Body); err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	if !bytes.Equal(stored, hash) {
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
	tag, err := s.db.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)`, ttl.Seconds())
	if err != nil {
		return 0, fmt.Errorf("prune idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
