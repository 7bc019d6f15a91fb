package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// migratedOver is a pool on a schema of its own, migrated past the migration named next with
// seed's statements run just before it, at the version before it, as data a running service
// would have then.
func migratedOver(t *testing.T, next string, seed ...string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	schema := "mig_" + testdb.Unique()
	admin := testdb.Pool(t)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	pc, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	pc.ConnConfig.RuntimeParams["search_path"] = schema
	pc.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	migs, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	i := 0
	for ; i < len(migs) && migs[i].Name != next; i++ {
		exec(migs[i].SQL)
	}
	if i == len(migs) {
		t.Fatalf("no migration %s", next)
	}
	for _, sql := range seed {
		exec(sql)
	}
	for ; i < len(migs); i++ {
		exec(migs[i].SQL)
	}
	return pool
}

// Existing tasks get per-user numbers in id order, and new tasks continue each user's sequence.
func TestTaskNumbersMigrationNumbersExistingRows(t *testing.T) {
	ctx := context.Background()
	pool := migratedOver(t, "0005_task_numbers.sql",
		"INSERT INTO users (id, email, password_hash) VALUES (1, 'a@x', 'h'), (2, 'b@x', 'h'), (3, 'c@x', 'h')",
		// Interleaved ids, as many users produce them.
		`INSERT INTO tasks (id, user_id, title) VALUES (10, 1, 'a1'), (11, 2, 'b1'), (12, 1, 'a2'),
		(15, 2, 'b2'), (16, 1, 'a3')`)
	rows, err := pool.Query(ctx, "SELECT id, number FROM tasks ORDER BY id")
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
	if err := pool.QueryRow(ctx, "SELECT (SELECT last_task_number FROM users WHERE id = 1), (SELECT last_task_number FROM users WHERE id = 2), (SELECT last_task_number FROM users WHERE id = 3)").Scan(&last1, &last2, &last3); err != nil {
		t.Fatal(err)
	}
	if last1 != 3 || last2 != 2 || last3 != 0 {
		t.Fatalf("last numbers %d %d %d, want 3 2 0", last1, last2, last3)
	}
}
