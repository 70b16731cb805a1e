package providers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/relink/relink/providers"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassifyTransport(t *testing.T) {
	const secret = "EAAsecretvalue"
	u := "https://graph.facebook.com/v24.0/me?access_token=" + secret
	tests := []struct {
		name      string
		err       error
		reason    providers.Reason
		msg       string
		cancelled bool
	}{
		{name: "deadline", err: &url.Error{Op: "Get", URL: u, Err: context.DeadlineExceeded}, reason: providers.ReasonProviderUnavailable, msg: "timed out"},
		{name: "client timeout", err: &url.Error{Op: "Get", URL: u, Err: timeoutErr{}}, reason: providers.ReasonProviderUnavailable, msg: "timed out"},
		{name: "net op timeout", err: &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, reason: providers.ReasonProviderUnavailable, msg: "timed out"},
		{name: "connection reset", err: &url.Error{Op: "Get", URL: u, Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}, reason: providers.ReasonProviderUnavailable, msg: "connection reset"},
		{name: "eof", err: &url.Error{Op: "Get", URL: u, Err: io.EOF}, reason: providers.ReasonProviderUnavailable, msg: "connection reset"},
		{name: "unexpected eof in body", err: io.ErrUnexpectedEOF, reason: providers.ReasonProviderUnavailable, msg: "connection reset"},
		{name: "refused", err: &url.Error{Op: "Get", URL: u, Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, reason: providers.ReasonProviderUnavailable, msg: "connection refused"},
		{name: "dns", err: &url.Error{Op: "Get", URL: u, Err: &net.DNSError{Err: "no such host", Name: "graph.facebook.com"}}, reason: providers.ReasonProviderUnavailable},
		{name: "cancelled by the caller", err: &url.Error{Op: "Get", URL: u, Err: context.Canceled}, reason: providers.ReasonUnknown, cancelled: true},
		{name: "cancelled while waiting", err: context.Canceled, reason: providers.ReasonUnknown, cancelled: true},
	}
	for _, tt := range tests {
		for _, provider := range []string{"meta", "linkedin"} {
			t.Run(tt.name+" "+provider, func(t *testing.T) {
				e := providers.ClassifyTransport(provider, "me", tt.err)
				if e.Reason != tt.reason || !e.Retryable || e.Provider != provider {
					t.Errorf("got %s %s retryable=%v, want %s retryable", e.Provider, e.Reason, e.Retryable, tt.reason)
				}
				if tt.msg != "" && e.Message != tt.msg {
					t.Errorf("message = %q, want %q", e.Message, tt.msg)
				}
				if got := providers.IsCanceled(e); got != tt.cancelled {
					t.Errorf("IsCanceled = %v, want %v", got, tt.cancelled)
				}
				if tt.cancelled && (e.Detail != providers.DetailCanceled || !errors.Is(e, context.Canceled)) {
					t.Errorf("a cancelled call must say so: %v", e)
				}
				if strings.Contains(e.Error(), secret) || strings.Contains(errors.Unwrap(e).Error(), secret) {
					t.Errorf("token leaked: %s", e.Error())
				}
			})
		}
	}
	classified := &providers.Error{Reason: providers.ReasonAppRemoved}
	if got := providers.ClassifyTransport("meta", "me", fmt.Errorf("wrap: %w", classified)); got != classified {
		t.Error("an already classified error must pass through")
	}
}

func TestExplainPrefersTheDetail(t *testing.T) {
	tests := []struct {
		name string
		err  *providers.Error
		want string
	}{
		{name: "plain reason", err: &providers.Error{Reason: providers.ReasonTokenExpired}, want: providers.ReasonTokenExpired.Message()},
		{name: "app misconfigured", err: &providers.Error{Reason: providers.ReasonUnknown, Detail: providers.DetailAppMisconfigured}, want: "app credentials"},
		{name: "login cancelled", err: &providers.Error{Reason: providers.ReasonMissingPermission, Detail: providers.DetailLoginCanceled}, want: "cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, fix := tt.err.Explain()
			if !strings.Contains(msg, tt.want) || fix == "" {
				t.Errorf("Explain = %q, %q", msg, fix)
			}
		})
	}
}
