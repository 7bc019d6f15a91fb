package logbuf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestFlushesOnIntervalAndClose(t *testing.T) {
	var out syncBuf
	w := New(&out, 4096, 20*time.Millisecond)
	_, _ = w.Write([]byte("one\n"))
	deadline := time.Now().Add(2 * time.Second)
	for out.String() != "one\n" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if out.String() != "one\n" {
		t.Fatalf("not flushed on interval: %q", out.String())
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = w.Write([]byte("line\n")) }()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if n := strings.Count(out.String(), "line\n"); n != 50 {
		t.Fatalf("%d lines after close", n)
	}
}

// blockingOut is an output whose writes wait until released, like a full pipe to the container
// runtime or a flushing thread the kernel has descheduled.
type blockingOut struct {
	syncBuf
	entered chan struct{} // a write has started
	release chan struct{} // closed: writes go through
}

func newBlockingOut() *blockingOut {
	return &blockingOut{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blockingOut) Write(p []byte) (int, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.syncBuf.Write(p)
}

// started waits until a write to out has begun.
func (b *blockingOut) started(t *testing.T) {
	t.Helper()
	select {
	case <-b.entered:
	case <-time.After(2 * time.Second):
		t.Fatal("no flush started")
	}
}

// done reports whether f returns within a generous bound (it either returns at once or never).
func done(f func()) bool {
	ch := make(chan struct{})
	go func() { defer close(ch); f() }()
	select {
	case <-ch:
		return true
	case <-time.After(2 * time.Second):
		return false
	}
}

func TestAWriteDoesNotWaitForAFlushInProgress(t *testing.T) {
	out := newBlockingOut()
	w := New(out, 4096, time.Hour)
	_, _ = w.Write([]byte("first\n"))
	go func() { _ = w.Flush() }()
	out.started(t) // the flush is writing "first" and will not return until released
	if !done(func() { _, _ = w.Write([]byte("second\n")) }) {
		t.Fatal("a log line waited for the flush in progress: every request ending meanwhile would too")
	}
	close(out.release)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "first\nsecond\n" {
		t.Fatalf("output %q", got)
	}
}

func TestMemoryIsBoundedWhileTheOutputIsStuck(t *testing.T) {
	out := newBlockingOut()
	w := New(out, 64, time.Hour)
	line := []byte(strings.Repeat("x", 31) + "\n") // two lines fill a buffer
	_, _ = w.Write(line)
	out.started(t) // half full: the flusher took that line and is stuck writing it
	for i := 0; i < 2; i++ {
		if !done(func() { _, _ = w.Write(line) }) {
			t.Fatal("the second buffer did not take lines while the first was being written")
		}
	}
	third := make(chan struct{})
	go func() { defer close(third); _, _ = w.Write(line) }()
	select {
	case <-third:
		t.Fatal("a third buffer's worth was accepted while the output was stuck")
	case <-time.After(50 * time.Millisecond):
	}
	close(out.release)
	<-third
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), string(line)); n != 4 {
		t.Fatalf("%d lines written, want 4", n)
	}
}

func TestLinesKeepTheirOrderAcrossFlushes(t *testing.T) {
	var out syncBuf
	w := New(&out, 256, time.Millisecond)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				_, _ = fmt.Fprintf(w, "%d %d\n", g, i)
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, l := range lines {
		g, i, _ := strings.Cut(l, " ")
		if want := fmt.Sprint(next[g]); i != want {
			t.Fatalf("goroutine %s: line %s where %s was due", g, i, want)
		}
		next[g]++
	}
	if len(lines) != 2000 {
		t.Fatalf("%d lines, want 2000", len(lines))
	}
}

func TestAfterCloseLinesAreWrittenThrough(t *testing.T) {
	var out syncBuf
	w := New(&out, 4096, time.Hour)
	_, _ = w.Write([]byte("before\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("after\n"))
	if got := out.String(); got != "before\nafter\n" {
		t.Fatalf("output %q", got)
	}
}

func TestALineLargerThanTheBufferIsWrittenWhole(t *testing.T) {
	var out syncBuf
	w := New(&out, 16, time.Hour)
	big := strings.Repeat("y", 100) + "\n"
	_, _ = w.Write([]byte("a\n"))
	_, _ = w.Write([]byte(big))
	_, _ = w.Write([]byte("b\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "a\n"+big+"b\n" {
		t.Fatalf("output %q", got)
	}
}
