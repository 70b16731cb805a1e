package providers

import "time"

// Clock tells the time. The app and providers read time through it so that, in
// sandbox mode, they share the sandbox's clock that the control panel can advance.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }
