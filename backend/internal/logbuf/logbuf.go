// Package logbuf batches log lines: one write(2) per flush instead of one per line, which at
// thousands of requests per second is a measurable share of the server's CPU.
//
// The write(2) never happens under the lock that logging goroutines take. Every request logs a
// line when it ends, so a flush that held that lock would stall every request ending meanwhile:
// when the kernel deschedules the flushing thread on a busy node, or when the pipe to the
// container runtime is full. Lines go into one buffer while the other is being written.
package logbuf

import (
	"io"
	"sync"
	"time"
)

// Writer buffers writes to an underlying writer and flushes them every interval, as soon as
// half the buffer is used, on Flush and on Close. It holds at most two buffers of size bytes
// (plus one line larger than that): when both are in use, Write waits for the write in progress.
type Writer struct {
	out  io.Writer
	size int

	mu     sync.Mutex
	room   *sync.Cond // a flush took the buffer: there is room again
	cur    []byte     // lines no flush has taken yet
	spare  []byte     // the other buffer, when no flush is writing it
	closed bool       // Close has taken the last lines: write through

	flushMu sync.Mutex    // one write(2) at a time, so batches leave in order
	wake    chan struct{} // the buffer is half full
	stop    chan struct{}
	done    chan struct{}
}

// New starts a Writer over w flushing at least every interval.
func New(w io.Writer, size int, interval time.Duration) *Writer {
	bw := &Writer{
		out: w, size: size,
		cur: make([]byte, 0, size), spare: make([]byte, 0, size),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	bw.room = sync.NewCond(&bw.mu)
	go func() {
		defer close(bw.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-bw.wake:
			case <-bw.stop:
				return
			}
			_ = bw.flush(false)
		}
	}()
	return bw
}

// Write buffers p. It waits only when both buffers are full, for the write(2) in progress.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	for !w.closed && len(w.cur) > 0 && len(w.cur)+len(p) > w.size {
		w.kick()
		w.room.Wait()
	}
	if w.closed {
		w.mu.Unlock()
		w.flushMu.Lock()
		defer w.flushMu.Unlock()
		return w.out.Write(p)
	}
	w.cur = append(w.cur, p...)
	if len(w.cur) >= w.size/2 {
		w.kick()
	}
	w.mu.Unlock()
	return len(p), nil
}

// kick wakes the flusher unless it is already due to run. Called with mu held.
func (w *Writer) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error { return w.flush(false) }

// flush takes the buffered lines, leaving the other buffer to Write, and writes them without
// holding mu. With last, later writes go straight to the underlying writer.
func (w *Writer) flush(last bool) error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	batch := w.cur
	w.cur, w.spare = w.spare, nil
	if last {
		w.closed = true
	}
	w.room.Broadcast()
	w.mu.Unlock()
	var err error
	if len(batch) > 0 {
		_, err = w.out.Write(batch)
	}
	if cap(batch) > 2*w.size {
		batch = make([]byte, 0, w.size) // an oversized line grew it: do not keep that memory
	}
	w.mu.Lock()
	w.spare = batch[:0]
	w.mu.Unlock()
	return err
}

// Close stops the flusher and flushes what is left; later writes are written through.
func (w *Writer) Close() error {
	select {
	case <-w.stop:
	default:
		close(w.stop)
		<-w.done
	}
	return w.flush(true)
}
