package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// Existing tasks get per-user numbers in id order, and new tasks continue each user's sequence.
func TestTaskNumbersMigrationNumbersExistingRows(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Pool(t)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	schema := "mig_" + testdb.Unique()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// A schema of its own at the version before task numbers existed.
	exec("CREATE SCHEMA " + schema)
	exec("SET search_path TO " + schema)
	defer exec("SET search_path TO public")
	migs, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for ; i < len(migs) && migs[i].Name != "0005_task_numbers.sql"; i++ {
		exec(migs[i].SQL)
	}
	if i == len(migs) {
		t.Fatal("no 0005_task_numbers.sql")
	}
	exec("INSERT INTO users (id, email, password_hash) VALUES (1, 'a@x', 'h'), (2, 'b@x', 'h'), (3, 'c@x', 'h')")
	// Interleaved ids, as many users produce them.
	exec(`INSERT INTO tasks (id, user_id, title) VALUES (10, 1, 'a1'), (11, 2, 'b1'), (12, 1, 'a2'),
		(15, 2, 'b2'), (16, 1, 'a3')`)
	for ; i < len(migs); i++ {
		exec(migs[i].SQL)
	}
	rows, err := conn.Query(ctx, "SELECT id, number FROM tasks ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		got[id] = n
	}
	want := map[int64]int64{10: 1, 12: 2, 16: 3, 11: 1, 15: 2}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("task %d: number %d, want %d (all: %v)", id, got[id], n, got)
		}
	}
	var last1, last2, last3 int64
	if err := conn.QueryRow(ctx, "SELECT (SELECT last_task_number FROM users WHERE id = 1), (SELECT last_task_number FROM users WHERE id = 2), (SELECT last_task_number FROM users WHERE id = 3)").Scan(&last1, &last2, &last3); err != nil {
		t.Fatal(err)
	}
	if last1 != 3 || last2 != 2 || last3 != 0 {
		t.Fatalf("last numbers %d %d %d, want 3 2 0", last1, last2, last3)
	}
	exec("DROP SCHEMA " + schema + " CASCADE")
}
