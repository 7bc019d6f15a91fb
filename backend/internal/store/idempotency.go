package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
	SET request_hash = excluded.request_hash, status = 0, location = '', body = '', task = NULL, created_at = now()
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

// TaskAnswer is how a create answers: its status, its Location (this prefix and the task's id)
// and its body (the task, encoded). A keyed create keeps the status, the Location and the task
// for its key, and a retry gets the task encoded again by Body.
type TaskAnswer struct {
	Status   int
	Location string
	Body     func(Task) []byte
}

// createKeyedSQL is CreateTask's statement for the transaction whose claim ran just before it:
// it creates the task and keeps it as the key's response only if that claim took the key (the
// key's row is then this transaction's: its xmin is our transaction id). Otherwise the key was
// used already, and the statement changes nothing.
//
// The key's row is updated whether or not a task came out: without one, location would be NULL,
// which the column refuses, so the transaction rolls back instead of committing a key with no
// response. (The claim's foreign key check holds the user's row, so the create finds it.)
const createKeyedSQL = `WITH n AS (
		UPDATE users SET last_task_number = last_task_number + 1
		WHERE id = $1 AND EXISTS (SELECT FROM idempotency_keys k
			WHERE k.user_id = $1 AND k.key = $4 AND k.xmin = pg_current_xact_id_if_assigned()::xid)
		RETURNING last_task_number),
	t AS (
		INSERT INTO tasks (user_id, number, title, description)
		SELECT $1, n.last_task_number, $2, $3 FROM n RETURNING ` + taskCols + `),
	k AS (
		UPDATE idempotency_keys SET status = $5, location = $6 || (SELECT id FROM t), task = (SELECT row_to_json(t) FROM t)
		WHERE user_id = $1 AND key = $4 AND xmin = pg_current_xact_id_if_assigned()::xid)
	SELECT ` + taskCols + ` FROM t`

// CreateKeyedTask is CreateTask under userID's idempotency key, as the UI sends every create.
// The key's claim (see ClaimKey), the create and the response kept for the key go to
// PostgreSQL in one round trip, as one implicit transaction on WriteOne's terms. It returns the
// response: the new task's, or, when the key was used already for the same request (hash),
// the first one again with replayed set; ErrKeyReused when it was used for another request.
func (s *Store) CreateKeyedTask(ctx context.Context, userID int64, key string, hash []byte, ttl time.Duration,
	title, description string, answer TaskAnswer) (resp Response, replayed bool, err error) {
	c := &Claim{userID: userID, key: key, hash: hash, ttl: ttl}
	var t Task
	err = s.WriteOne(ctx, func(st *Store) error {
		if w, ok := st.db.(*lastWrite); ok {
			w.ahead = c
		}
		t, err = scanTask(st.db.QueryRow(ctx, createKeyedSQL, userID, title, description, key, answer.Status, answer.Location))
		return err
	})
	switch {
	case c.sent && c.err != nil:
		return Response{}, false, fmt.Errorf("claim idempotency key: %w", c.err)
	case !c.sent && err != nil: // no slot, no connection or no time left: nothing was sent
		return Response{}, false, fmt.Errorf("create task: %w", err)
	case c.claimed:
		if err != nil {
			return Response{}, false, fmt.Errorf("create task: %w", err)
		}
		return Response{Status: answer.Status, Location: answer.Location + strconv.FormatInt(t.ID, 10), Body: answer.Body(t)}, false, nil
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return Response{}, false, fmt.Errorf("create task: %w", err)
	}
	// The key was used: its first response, from the pool (the transaction is over).
	var stored, task []byte
	if err := s.pool.QueryRow(ctx, `SELECT request_hash, status, location, body, task FROM idempotency_keys
		WHERE user_id = $1 AND key = $2`, userID, key).Scan(&stored, &resp.Status, &resp.Location, &resp.Body, &task); err != nil {
		return Response{}, false, fmt.Errorf("read idempotency key: %w", err)
	}
	if !bytes.Equal(stored, hash) {
		return Response{}, false, ErrKeyReused
	}
	if task != nil {
		var first Task
		if err := json.Unmarshal(task, &first); err != nil {
			return Response{}, false, fmt.Errorf("read idempotency key: task: %w", err)
		}
		// In the time zone the first answer's times had (pgx reads timestamptz in Local).
		first.CreatedAt, first.UpdatedAt = first.CreatedAt.Local(), first.UpdatedAt.Local()
		resp.Body = answer.Body(first)
	}
	return resp, true, nil
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
