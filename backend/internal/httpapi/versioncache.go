package httpapi

import (
	"context"
	"sync"
	"time"
)

// versionCacheTTL bounds how long a revoked token keeps working on a replica that did not
// handle the logout.
const versionCacheTTL = 5 * time.Second

const maxVersionsCached = 10000

type versionEntry struct {
	version int64
	at      time.Time
}

// versionCache remembers users' token versions for versionCacheTTL.
type versionCache struct {
	mu sync.Mutex
	m  map[int64]versionEntry
}

func (c *versionCache) get(ctx context.Context, userID int64, load func(context.Context, int64) (int64, error)) (int64, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[userID]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < versionCacheTTL {
		return e.version, nil
	}
	v, err := load(ctx, userID)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxVersionsCached {
		c.m = make(map[int64]versionEntry)
	}
	c.m[userID] = versionEntry{v, now}
	c.mu.Unlock()
	return v, nil
}

func (c *versionCache) forget(userID int64) {
	c.mu.Lock()
	delete(c.m, userID)
	c.mu.Unlock()
}
