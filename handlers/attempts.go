package handlers

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/httprate"
	"golang.org/x/sync/semaphore"
)

// attemptLimiter counts sign-in attempts per key in a sliding window (httprate's counter).
// An attempt is counted before it is evaluated, so a burst cannot run more password checks
// than the limit allows; a successful one is refunded, so colleagues signing in from one
// office address never use up each other's attempts.
type attemptLimiter struct {
	limit   int
	window  time.Duration
	now     func() time.Time
	mu      sync.Mutex
	counter httprate.LimitCounter
}

func newAttemptLimiter(limit int, window time.Duration) *attemptLimiter {
	return &attemptLimiter{limit: limit, window: window, now: time.Now, counter: httprate.NewLocalLimitCounter(window)}
}

// attempt is a counted attempt, to refund when it succeeds.
type attempt struct {
	key    string
	window time.Time
}

// take counts one attempt for key. When key has used up its attempts it counts nothing and
// returns how long until the next one is allowed.
func (l *attemptLimiter) take(key string) (attempt, time.Duration, bool) {
	now := l.now().UTC()
	cur := now.Truncate(l.window)
	l.mu.Lock()
	defer l.mu.Unlock()
	curCount, prevCount, _ := l.counter.Get(key, cur, cur.Add(-l.window))
	if wait := l.wait(now, cur, curCount, prevCount); wait > 0 {
		return attempt{}, wait, false
	}
	_ = l.counter.IncrementBy(key, cur, 1) // the local counter never fails
	return attempt{key: key, window: cur}, 0, true
}

// refund takes back a counted attempt. Once its window has passed, the attempt only weighs
// in the sliding estimate, and it fades with it.
func (l *attemptLimiter) refund(a attempt) {
	if a.key == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur := l.now().UTC().Truncate(l.window); cur.Equal(a.window) {
		if n, _, _ := l.counter.Get(a.key, cur, cur.Add(-l.window)); n > 0 {
			_ = l.counter.IncrementBy(a.key, cur, -1)
		}
	}
}

// wait is how long until one more attempt fits under the limit, given the counts of the
// current window (which began at cur) and the previous one: the sliding estimate weighs the
// previous window by the part of it still inside the last window length.
func (l *attemptLimiter) wait(now, cur time.Time, curCount, prevCount int) time.Duration {
	allowed := float64(l.limit - 1) // the estimate must leave room for this attempt
	elapsed := now.Sub(cur)
	w := float64(l.window)
	if float64(prevCount)*(w-float64(elapsed))/w+float64(curCount) <= allowed {
		return 0
	}
	end := cur.Add(l.window).Sub(now)
	if float64(curCount) <= allowed && prevCount > 0 {
		// Still inside this window, once the previous one has faded enough.
		need := time.Duration(w * (1 - (allowed-float64(curCount))/float64(prevCount)))
		return need - elapsed
	}
	// Only in the next window, once this window's attempts have faded enough there.
	return end + time.Duration(math.Max(0, w*(1-allowed/float64(curCount))))
}

// checkSlots bounds how many password checks run at once: each argon2id check takes 19 MiB,
// so a burst of sign-ins must queue rather than exhaust memory. The queue itself is bounded
// too (enough to cover CheckWait at a few dozen checks a second per slot); past it, or after
// waiting too long, a sign-in is told to come back in a moment.
type checkSlots struct {
	sem      *semaphore.Weighted
	queued   atomic.Int64
	maxQueue int64
	maxWait  time.Duration
}

func newCheckSlots(slots int, maxWait time.Duration) *checkSlots {
	return &checkSlots{sem: semaphore.NewWeighted(int64(slots)), maxQueue: int64(32 * slots), maxWait: maxWait}
}

// acquire waits for a free slot; false means the server is too busy (or ctx ended).
func (c *checkSlots) acquire(ctx context.Context) bool {
	if c.sem.TryAcquire(1) {
		return true
	}
	if c.queued.Add(1) > c.maxQueue {
		c.queued.Add(-1)
		return false
	}
	defer c.queued.Add(-1)
	ctx, cancel := context.WithTimeout(ctx, c.maxWait)
	defer cancel()
	return c.sem.Acquire(ctx, 1) == nil
}

func (c *checkSlots) release() { c.sem.Release(1) }
