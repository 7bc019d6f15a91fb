// Command chaos runs the backend's fault scenarios against a real server binary and a real
// PostgreSQL on loopback (bench/chaos-backend.sh starts both) and prints one table row per
// check: fault, expected, observed, held. Every scenario is bounded in requests and time.
//
//	chaos -server ./server -db $TEST_DATABASE_URL
//
// PostgreSQL faults need WITH_POSTGRES_BIN and WITH_POSTGRES_DATA (scripts/with-postgres.sh).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
)

type row struct {
	fault, expected, observed string
	held                      bool
}

var (
	rows   []row
	failed bool
)

func report(fault, expected, observed string, held bool) {
	rows = append(rows, row{fault, expected, observed, held})
	if !held {
		failed = true
	}
	fmt.Fprintf(os.Stderr, "  %s: %s (%v)\n", fault, observed, held)
}

func main() {
	bin := flag.String("server", "./server", "server binary")
	db := flag.String("db", os.Getenv("TEST_DATABASE_URL"), "PostgreSQL URL")
	lockFor := flag.Duration("lock", 15*time.Second, "how long the tasks table stays locked")
	rate := flag.Int("rate", 200, "requests per second during the table lock")
	flag.Parse()

	ctx := context.Background()
	srv := start(*bin, *db, nil)
	tok := srv.signup()

	badInput(srv, tok)
	tableLock(ctx, srv, tok, *db, *lockFor, *rate)
	largeBodies(srv, tok)
	srv.stop()

	if os.Getenv("WITH_POSTGRES_DATA") != "" {
		// The throwaway cluster runs with synchronous_commit=off (fast tests), which by design
		// loses the last commits in a crash: restart it durable, as production runs.
		if err := restartPostgres("fast", func(a string) string {
			return strings.Replace(a, "synchronous_commit=off", "synchronous_commit=on", 1)
		}, 0); err != nil {
			panic(err)
		}
		for _, mode := range []string{"fast", "immediate"} {
			srv = start(*bin, *db, nil)
			postgresFault(ctx, srv, srv.signup(), *db, mode)
			srv.stop()
		}
	} else {
		report("PostgreSQL stop/crash", "run under scripts/with-postgres.sh", "skipped: WITH_POSTGRES_DATA unset", false)
	}
	sigterm(*bin, *db)

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "fault\texpected\tobserved\theld")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.fault, r.expected, r.observed, map[bool]string{true: "yes", false: "NO"}[r.held])
	}
	w.Flush()
	if failed {
		os.Exit(1)
	}
}

// server is one running server process.
type server struct {
	cmd  *exec.Cmd
	base string
	log  *bytes.Buffer
	exit chan error
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func start(bin, db string, extra []string) *server {
	port := freePort()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+db, "JWT_SECRET=chaos-secret-0123456789abcdef-0123456789",
		"LISTEN_HOST=127.0.0.1", "PORT="+port, "LOG_LEVEL=warn", "BCRYPT_COST=4",
		"MEMORY_LIMIT=134217728", // the chart's 128Mi limit
		"DRAIN_WINDOW=0s", "LOGIN_RATE_PER_IP=100000")
	cmd.Env = append(cmd.Env, extra...)
	s := &server{cmd: cmd, base: "http://127.0.0.1:" + port, log: &bytes.Buffer{}, exit: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	go func() { s.exit <- cmd.Wait() }()
	for i := 0; i < 200; i++ {
		if r, err := http.Get(s.base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	panic("server did not become ready:\n" + s.log.String())
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exit
	}
}

// procKB reads a field (VmRSS, VmHWM) of /proc/<pid>/status in KiB.
func (s *server) procKB(field string) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return 0
}

func (s *server) goroutines() int {
	r, err := http.Get(s.base + "/metrics")
	if err != nil {
		return -1
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "go_goroutines ") {
			n, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return int(n)
		}
	}
	return -1
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}

type answer struct {
	status     int
	retryAfter string
	body       []byte
	err        error
	took       time.Duration
}

func (s *server) do(method, path, tok, body string, hdr ...string) answer {
	start := time.Now()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := client.Do(req)
	if err != nil {
		return answer{err: err, took: time.Since(start)}
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return answer{status: r.StatusCode, retryAfter: r.Header.Get("Retry-After"), body: b, took: time.Since(start)}
}

func (s *server) signup() string {
	a := s.do("POST", "/api/auth/signup", "", fmt.Sprintf(`{"email":"chaos-%d@example.com","password":"password1"}`, time.Now().UnixNano()))
	var v struct{ Token string }
	if err := json.Unmarshal(a.body, &v); err != nil || v.Token == "" {
		panic(fmt.Sprintf("signup: %d %s", a.status, a.body))
	}
	return v.Token
}

func (s *server) taskCount(tok string) int {
	a := s.do("GET", "/api/tasks", tok, "")
	var v []json.RawMessage
	_ = json.Unmarshal(a.body, &v)
	return len(v)
}

func badInput(s *server, tok string) {
	before := s.taskCount(tok)
	bad := []string{`\u0000`, `\u001b`, "\xff", `\ud800`}
	bodies := []struct{ path, body string }{}
	for _, b := range bad {
		bodies = append(bodies,
			struct{ path, body string }{"/api/tasks", `{"title":"a` + b + `"}`},
			struct{ path, body string }{"/api/tasks", `{"title":"a","description":"` + b + `"}`},
			struct{ path, body string }{"/api/chat", `{"message":"add a` + b + `"}`},
			struct{ path, body string }{"/api/auth/login", `{"email":"a` + b + `@x.example","password":"password1"}`})
	}
	n, n400 := 0, 0
	for i := 0; i < 10; i++ {
		for _, b := range bodies {
			n++
			if a := s.do("POST", b.path, tok, b.body); a.status == 400 {
				n400++
			}
		}
	}
	after := s.taskCount(tok)
	report("NUL/control/invalid UTF-8 in every field", "all 400, nothing written",
		fmt.Sprintf("%d/%d 400, tasks %d->%d", n400, n, before, after), n400 == n && after == before)
}

func tableLock(ctx context.Context, s *server, tok, db string, lockFor time.Duration, rate int) {
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		panic(err)
	}
	defer conn.Close(ctx)
	tx, _ := conn.Begin(ctx)
	if _, err := tx.Exec(ctx, "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE"); err != nil {
		panic(err)
	}
	g0, rss0 := s.goroutines(), s.procKB("VmRSS")
	var mu sync.Mutex
	statuses := map[int]int{}
	var maxTook time.Duration
	var wg sync.WaitGroup
	stopLoad := time.Now().Add(lockFor)
	ready200, readyN := 0, 0
	maxG, maxRSS := g0, rss0
	tick := time.NewTicker(time.Second / time.Duration(rate))
	sample := time.NewTicker(500 * time.Millisecond)
	for time.Now().Before(stopLoad) {
		select {
		case <-tick.C:
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := s.do("GET", "/api/tasks", tok, "")
				mu.Lock()
				statuses[a.status]++
				maxTook = max(maxTook, a.took)
				mu.Unlock()
			}()
		case <-sample.C:
			readyN++
			if a := s.do("GET", "/readyz", "", ""); a.status == 200 {
				ready200++
			}
			maxG, maxRSS = max(maxG, s.goroutines()), max(maxRSS, s.procKB("VmRSS"))
		}
	}
	tick.Stop()
	sample.Stop()
	wg.Wait()
	_ = tx.Rollback(ctx)
	other := 0
	for st, n := range statuses {
		if st != 503 && st != 200 {
			other += n
		}
	}
	report(fmt.Sprintf("tasks locked %v at %d req/s", lockFor, rate), "503+Retry-After at the 10s deadline, none slower",
		fmt.Sprintf("statuses %v, slowest %v", statuses, maxTook.Round(time.Millisecond)), other == 0 && statuses[503] > 0 && maxTook < 12*time.Second)
	// Per request in flight: its handler and its connection's background reader; the rest are
	// idle keep-alive connections and the runtime's own.
	report("  goroutines / RSS during the lock", "flat: <= 2 x MAX_IN_FLIGHT + 100, RSS < 128 MiB",
		fmt.Sprintf("goroutines %d->%d max, RSS %.1f->%.1f MiB max", g0, maxG, float64(rss0)/1024, float64(maxRSS)/1024), maxG <= 2*128+100 && maxRSS < 128<<10)
	report("  /readyz during the lock", "200 (PostgreSQL answers)", fmt.Sprintf("%d/%d 200", ready200, readyN), ready200 == readyN)
}

func largeBodies(s *server, tok string) {
	body := `{"title":"x","description":"` + strings.Repeat("d", 1<<20-40) + `"}`
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := s.do("POST", "/api/tasks", tok, body)
			mu.Lock()
			statuses[a.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	hwm := s.procKB("VmHWM")
	report("200 concurrent 1 MiB bodies", "peak RSS < 128 MiB (chart limit), only 400/503",
		fmt.Sprintf("peak RSS %.1f MiB, statuses %v", float64(hwm)/1024, statuses), hwm < 128<<10 && statuses[400]+statuses[503] == 200)
}

// postgresFault stops PostgreSQL (fast: clean stop; immediate: crash) under write load, starts
// it again, and checks that every write the client was told succeeded exists once, that errors
// were 503 with Retry-After, and that retries with the same Idempotency-Key did not duplicate.
func postgresFault(ctx context.Context, s *server, tok, db, mode string) {
	const writers, perWriter = 8, 60
	var ok2xx, non2xx, not503, replays atomic.Int64
	var firstOKAfterRestart atomic.Int64
	var restartedAt atomic.Int64
	keysOK := make(chan string, writers*perWriter)
	var wg sync.WaitGroup
	run := fmt.Sprintf("%s-%d", mode, time.Now().UnixNano())
	giveUp := time.Now().Add(45 * time.Second) // bounded even if PostgreSQL never comes back
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter && time.Now().Before(giveUp); i++ {
				key := fmt.Sprintf("%s-%d-%d", run, w, i)
				body := fmt.Sprintf(`{"title":%q}`, key)
				for attempt := 0; time.Now().Before(giveUp); attempt++ {
					a := s.do("POST", "/api/tasks", tok, body, "Idempotency-Key", key)
					if a.status == 201 {
						ok2xx.Add(1)
						if attempt > 0 {
							replays.Add(1)
						}
						if ra := restartedAt.Load(); ra != 0 {
							firstOKAfterRestart.CompareAndSwap(0, time.Now().UnixNano())
						}
						keysOK <- key
						break
					}
					non2xx.Add(1)
					if a.status != 503 || a.retryAfter == "" {
						not503.Add(1)
					}
					time.Sleep(200 * time.Millisecond)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	time.Sleep(time.Second)
	if err := restartPostgres(mode, nil, 3*time.Second); err != nil {
		report("PostgreSQL "+mode+" stop", "", err.Error(), false)
		return
	}
	restartedAt.Store(time.Now().UnixNano())
	wg.Wait()
	close(keysOK)
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		report("PostgreSQL "+mode+" stop", "", "connect after restart: "+err.Error(), false)
		return
	}
	defer conn.Close(ctx)
	var okKeys []string
	for k := range keysOK {
		okKeys = append(okKeys, k)
	}
	var present, dupes int
	_ = conn.QueryRow(ctx, "SELECT count(DISTINCT title), count(*) - count(DISTINCT title) FROM tasks WHERE title LIKE $1", run+"-%").Scan(&present, &dupes)
	var missing int
	_ = conn.QueryRow(ctx, "SELECT count(*) FROM unnest($1::text[]) k WHERE NOT EXISTS (SELECT 1 FROM tasks WHERE title = k)", okKeys).Scan(&missing)
	recovery := "never"
	if f := firstOKAfterRestart.Load(); f != 0 {
		recovery = time.Duration(f - restartedAt.Load()).Round(time.Millisecond).String()
	}
	name := map[string]string{"fast": "PostgreSQL stopped (fast) 3s under writes", "immediate": "PostgreSQL crashed (immediate) 3s under writes"}[mode]
	report(name, "every 201 present once, no extra rows, errors 503+Retry-After",
		fmt.Sprintf("%d/%d written, %d missing, %d duplicates, %d rows without a 201, %d errors (%d not 503), %d retried to 201, first 201 %s after PostgreSQL accepted connections again",
			ok2xx.Load(), writers*perWriter, missing, dupes, present-len(okKeys), non2xx.Load(), not503.Load(), replays.Load(), recovery),
		ok2xx.Load() == writers*perWriter && missing == 0 && dupes == 0 && present == len(okKeys) && not503.Load() == 0)
}

// restartPostgres stops the cluster (pg_ctl -m mode: fast is a clean stop, immediate a crash),
// leaves it down for down, and starts it again with the same arguments (edited by edit),
// waiting until it accepts connections.
func restartPostgres(mode string, edit func(string) string, down time.Duration) error {
	pgbin, data := os.Getenv("WITH_POSTGRES_BIN"), os.Getenv("WITH_POSTGRES_DATA")
	optsB, err := os.ReadFile(data + "/postmaster.opts")
	if err != nil {
		return err
	}
	// postmaster.opts: the binary, then every argument in double quotes.
	bin, rest, _ := strings.Cut(strings.TrimSpace(string(optsB)), " ")
	args := []string{bin}
	for _, m := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(rest, -1) {
		a := m[1]
		if edit != nil {
			a = edit(a)
		}
		args = append(args, a)
	}
	asPG := func(name string, a ...string) *exec.Cmd {
		if os.Geteuid() == 0 {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, a...)...)
		}
		return exec.Command(name, a...)
	}
	if out, err := asPG(pgbin+"/pg_ctl", "-D", data, "-m", mode, "-w", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop -m %s: %v %s", mode, err, out)
	}
	time.Sleep(down)
	pg := asPG(args[0], args[1:]...)
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(data), "postgres-restart.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	pg.Stdout, pg.Stderr = logf, logf
	if err := pg.Start(); err != nil {
		return fmt.Errorf("restart postgres: %w", err)
	}
	go func() { _ = pg.Wait() }()
	port := os.Getenv("WITH_POSTGRES_PORT")
	for i := 0; i < 100; i++ {
		if exec.Command(pgbin+"/pg_isready", "-q", "-h", "127.0.0.1", "-p", port).Run() == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("postgres did not come back within 10s")
}

// sigterm: under load, SIGTERM must not refuse anything during the drain window; a request cut
// at SHUTDOWN_TIMEOUT must make the exit code non-zero.
func sigterm(bin, db string) {
	s := start(bin, db, []string{"DRAIN_WINDOW=3s", "SHUTDOWN_TIMEOUT=5s"})
	tok := s.signup()
	var refused, served, ready503 atomic.Int64
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				if a := s.do("GET", "/api/tasks", tok, ""); a.err != nil || a.status != 200 {
					refused.Add(1)
				} else {
					served.Add(1)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	t0 := time.Now()
	for time.Since(t0) < 2500*time.Millisecond {
		if a := s.do("GET", "/readyz", "", ""); a.status == 503 {
			ready503.Add(1)
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stopLoad)
	wg.Wait()
	err := <-s.exit
	report("SIGTERM under load (3s drain window)", "0 refused in the window, readyz 503, exit 0",
		fmt.Sprintf("%d served, %d refused, readyz 503 x%d, exit %v", served.Load(), refused.Load(), ready503.Load(), exitCode(err)),
		refused.Load() == 0 && ready503.Load() > 0 && exitCode(err) == 0)

	// A request that outlives SHUTDOWN_TIMEOUT: hold it on a locked table.
	s = start(bin, db, []string{"DRAIN_WINDOW=0s", "SHUTDOWN_TIMEOUT=1s", "REQUEST_TIMEOUT=10s"})
	tok = s.signup()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		panic(err)
	}
	defer conn.Close(ctx)
	tx, _ := conn.Begin(ctx)
	_, _ = tx.Exec(ctx, "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
	go s.do("GET", "/api/tasks", tok, "")
	time.Sleep(300 * time.Millisecond)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	err = <-s.exit
	_ = tx.Rollback(ctx)
	report("SIGTERM with a request past SHUTDOWN_TIMEOUT", "request cut, exit non-zero",
		fmt.Sprintf("exit %v", exitCode(err)), exitCode(err) != 0)
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
