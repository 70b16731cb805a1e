package sandbox

import (
	"errors"
	"fmt"
	"strings"
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

// MaxAdvance is the most one advance on the panel or through the JSON API may move
// the clock: the app stamps its own records with this clock, so a slip of the
// keyboard must not age them by centuries.
const MaxAdvance = 400 * 24 * time.Hour

// maxAdvanceDays is MaxAdvance as the panel and the refusals say it.
const maxAdvanceDays = int(MaxAdvance / (24 * time.Hour))

// Why an advance was refused, in words for the panel and the JSON API.
var (
	errAdvanceSyntax = errors.New("advance must be a non-negative Go duration such as 36h or 90m")
	errAdvanceTooFar = fmt.Errorf("one advance may move the clock by at most %d days (%dh); advance again to go further",
		maxAdvanceDays, int(MaxAdvance/time.Hour))
)

// parseAdvance reads an advance the panel or the JSON API was asked for.
func parseAdvance(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	switch {
	case err != nil || d < 0:
		return 0, errAdvanceSyntax
	case d > MaxAdvance:
		return 0, errAdvanceTooFar
	}
	return d, nil
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
