package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/relink/relink/providers/meta"
)

// DeauthorizeTimeout bounds one delivery of the deauthorize callback.
const DeauthorizeTimeout = 10 * time.Second

// deauthorize posts Meta's deauthorize callback for each user to
// Options.DeauthorizeURL in the background: the fault is injected whether or not the
// app hears of it, as on Meta. The signed_request names the user by the id /me and
// debug_token give, is signed with the sandbox's Meta app secret and is issued at
// the sandbox clock's now, which the app reads in sandbox mode.
func (s *Sandbox) deauthorize(users []string, now time.Time) {
	if s.opts.DeauthorizeURL == "" {
		return
	}
	for _, u := range users {
		signed := meta.SignRequest(meta.SignedRequest{UserID: u, IssuedAt: now, Algorithm: meta.SignedAlgorithm}, s.opts.MetaAppSecret)
		s.callbacks.Add(1)
		go func() {
			defer s.callbacks.Done()
			s.postDeauthorize(u, signed)
		}()
	}
}

// postDeauthorize delivers one callback and logs what came of it.
func (s *Sandbox) postDeauthorize(user, signed string) {
	ctx, cancel := context.WithTimeout(context.Background(), DeauthorizeTimeout)
	defer cancel()
	log := s.logger.With("url", s.opts.DeauthorizeURL, "user", user)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.DeauthorizeURL,
		strings.NewReader(url.Values{"signed_request": {signed}}.Encode()))
	if err != nil {
		log.Warn("sandbox: deauthorize callback not sent: bad DeauthorizeURL", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.opts.DeauthorizeClient.Do(req)
	if err != nil {
		log.Warn("sandbox: deauthorize callback not delivered", "err", err)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		log.Warn("sandbox: deauthorize callback refused", "status", resp.StatusCode)
		return
	}
	log.Info("sandbox: deauthorize callback delivered")
}

// WaitCallbacks waits until every deauthorize callback under way has been delivered
// or given up, so that a test can look at what the app did with it.
func (s *Sandbox) WaitCallbacks() {
	s.callbacks.Wait()
}
