package sandbox

import (
	"sync"
	"time"
)

// Clock is the sandbox's clock: real time plus an offset that the control panel and
// the JSON API advance. In sandbox mode the app reads time from the same Clock, so a
// 60-day expiry can be watched in minutes. It implements providers.Clock.
type Clock struct {
	mu     sync.RWMutex
	offset time.Duration
	frozen time.Time // when non-zero, time does not pass by itself (tests)
}

// NewClock returns a clock that follows real time until advanced.
func NewClock() *Clock { return &Clock{} }

// NewFrozenClock returns a clock stopped at t that moves only when advanced, for
// deterministic tests.
func NewFrozenClock(t time.Time) *Clock { return &Clock{frozen: t} }

// Now returns the sandbox time.
func (c *Clock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.frozen.IsZero() {
		return c.frozen.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d (negative d is ignored) and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	if d > 0 {
		c.offset += d
	}
	c.mu.Unlock()
	return c.Now()
}

// Offset is how far the clock has been advanced in total.
func (c *Clock) Offset() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.offset
}
