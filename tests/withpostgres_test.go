package tests

// scripts/with-postgres.sh: the throwaway PostgreSQL cluster the backend's tests, the browser
// e2e and the benchmark run against. These start a real one (Debian's binaries).

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWithPostgresStartsTheClusterWithTheSettingsGiven(t *testing.T) {
	// runScript's PATH leaves out /usr/sbin, where runuser is (the script runs PostgreSQL as
	// the postgres user when run as root).
	tools := newStubTools(t, map[string]string{"runuser": `exec /usr/sbin/runuser "$@"`})
	stdout, stderr, code := runScript(t, tools,
		map[string]string{"WITH_POSTGRES_SETTINGS": "work_mem=7MB  maintenance_work_mem=9MB"},
		"scripts/with-postgres.sh", "bash", "-c",
		`psql "$TEST_DATABASE_URL" -XAt -c "SHOW work_mem" -c "SHOW maintenance_work_mem" -c "SHOW fsync"`)
	if !assert.Equal(t, 0, code, stderr) {
		return
	}
	// Both settings given are added to the script's own (fsync=off).
	assert.Equal(t, []string{"7MB", "9MB", "off"}, strings.Fields(stdout))
}

func TestWithPostgresRefusesASettingThatIsNotNameEqualsValue(t *testing.T) {
	s := newStubTools(t, map[string]string{"never-run": ""})
	_, stderr, code := runScript(t, s, map[string]string{"WITH_POSTGRES_SETTINGS": "work_mem=7MB shared_buffers"},
		"scripts/with-postgres.sh", "never-run")
	assert.Equal(t, 2, code)
	assert.Equal(t, "with-postgres.sh: WITH_POSTGRES_SETTINGS holds name=value entries, not 'shared_buffers'\n", stderr)
	assert.Empty(t, s.calls(t), "the command does not run")
}
