package store

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// listBatcher lets concurrent task-list reads share round trips. Each read queues itself and
// asks the pool for a connection; whichever read gets one first runs every read queued at that
// moment (its own and other users') as one pipeline: one write to PostgreSQL and one read back,
// instead of one of each per read on both sides. Reading the list is what the app does most
// (every page load, every chat "what's left?", MCP list_tasks), and under load most of its cost
// was those two syscalls. With no concurrency a batch is just the one read, as before.
type listBatcher struct {
	pool *pgxpool.Pool
	mu   sync.Mutex
	// queue holds the reads no connection has taken yet.
	queue []*listRead
}

// maxListBatch bounds one pipeline, so one connection never serves an unbounded queue alone.
const maxListBatch = 32

// fallbackDeadline bounds a batch whose reads carry no deadline (the API always sets one).
const fallbackDeadline = 30 * time.Second

type listRead struct {
	ctx    context.Context
	userID int64
	status string
	// stopWaiting ends the read's own wait for a connection once another read's connection took it.
	stopWaiting context.CancelFunc
	done        chan struct{} // closed when tasks and err are set
	tasks       []Task
	err         error
}

// list runs one read through the batcher.
func (b *listBatcher) list(ctx context.Context, userID int64, status string) ([]Task, error) {
	acquireCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	r := &listRead{ctx: ctx, userID: userID, status: status, stopWaiting: stopWaiting, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, r)
	b.mu.Unlock()

	conn, err := b.pool.Acquire(acquireCtx)
	if err == nil {
		// Reads are served in arrival order: more than maxListBatch ahead of this one take more
		// than one pipeline; once another connection has taken it, this one stops.
		for batch := b.take(r); len(batch) > 0; batch = b.take(r) {
			b.run(conn, batch)
		}
		conn.Release()
	}
	select {
	case <-r.done:
		return r.tasks, r.err
	default:
	}
	if b.remove(r) {
		// Nobody took it: the wait for a connection failed (deadline, pool closed).
		return nil, err
	}
	// Taken by another read's connection: its result is on the way (bounded by the deadline).
	select {
	case <-r.done:
		return r.tasks, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// take removes up to maxListBatch reads from the head of the queue, if r is still among the
// queued reads, and stops their own waits for a connection.
func (b *listBatcher) take(r *listRead) []*listRead {
	b.mu.Lock()
	if !slices.Contains(b.queue, r) {
		b.mu.Unlock()
		return nil
	}
	n := min(len(b.queue), maxListBatch)
	batch := slices.Clone(b.queue[:n])
	b.queue = slices.Delete(b.queue, 0, n)
	b.mu.Unlock()
	for _, q := range batch {
		q.stopWaiting()
	}
	return batch
}

// remove takes r out of the queue; false if a connection has already taken it.
func (b *listBatcher) remove(r *listRead) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.Index(b.queue, r)
	if i < 0 {
		return false
	}
	b.queue = slices.Delete(b.queue, i, i+1)
	return true
}

// run sends batch as one pipeline on conn and hands each read its rows. The batch lives as
// long as its most patient read: one read's deadline or cancellation never cuts the others'.
func (b *listBatcher) run(conn *pgxpool.Conn, batch []*listRead) {
	var deadline time.Time
	for _, r := range batch {
		d, ok := r.ctx.Deadline()
		if !ok {
			d = time.Now().Add(fallbackDeadline)
		}
		if d.After(deadline) {
			deadline = d
		}
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(batch[0].ctx), deadline)
	defer cancel()

	pb := &pgx.Batch{}
	for _, r := range batch {
		sql, args := listQuery(r.userID, r.status)
		pb.Queue(sql, args...)
	}
	results := conn.SendBatch(ctx, pb)
	for _, r := range batch {
		rows, err := results.Query()
		if err == nil {
			r.tasks, r.err = collectTasks(rows)
		} else {
			r.err = err
		}
	}
	if err := results.Close(); err != nil {
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
		}
	}
	for _, r := range batch {
		close(r.done)
	}
}
