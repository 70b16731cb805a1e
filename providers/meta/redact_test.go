package meta_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/providers/meta"
)

// TestTokensStayOutOfLogs: a Page or a Session printed with %v, %#v or logged
// through slog's JSON handler never shows its token.
func TestTokensStayOutOfLogs(t *testing.T) {
	const secret = "EAALsecretPAGEtoken1234567890abcdef"
	page := meta.Page{ID: "110000000000001", Name: "Bakery", AccessToken: secret}
	sess := &meta.Session{AuthURL: "https://example.test/dialog", AccessToken: secret, ExpiresAt: time.Unix(1e9, 0)}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{name: "page", v: page, want: "110000000000001"},
		{name: "page pointer", v: &page, want: "110000000000001"},
		{name: "session", v: *sess, want: "2001"},
		{name: "session pointer", v: sess, want: "2001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", tt.v)
			for _, out := range []string{fmt.Sprintf("%v", tt.v), fmt.Sprintf("%+v", tt.v), fmt.Sprintf("%#v", tt.v), buf.String()} {
				if strings.Contains(out, secret) {
					t.Errorf("token printed: %s", out)
				}
			}
			if !strings.Contains(buf.String(), tt.want) {
				t.Errorf("log lost what it is about: %s", buf.String())
			}
		})
	}
}
