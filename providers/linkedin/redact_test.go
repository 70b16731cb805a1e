package linkedin_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/providers/linkedin"
)

// TestTokensStayOutOfLogs: a Session printed with %v, %#v or logged through slog's
// JSON handler never shows its tokens.
func TestTokensStayOutOfLogs(t *testing.T) {
	const access, refresh = "AQVsecretACCESStoken1234567890abcdef", "AQXsecretREFRESHtoken1234567890abcdef"
	sess := &linkedin.Session{AuthURL: "https://example.test/auth", AccessToken: access, RefreshToken: refresh, ExpiresAt: time.Unix(1e9, 0)}
	tests := []struct {
		name string
		v    any
	}{
		{name: "session", v: *sess},
		{name: "session pointer", v: sess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", tt.v)
			for _, out := range []string{fmt.Sprintf("%v", tt.v), fmt.Sprintf("%+v", tt.v), fmt.Sprintf("%#v", tt.v), buf.String()} {
				if strings.Contains(out, access) || strings.Contains(out, refresh) {
					t.Errorf("token printed: %s", out)
				}
			}
			if !strings.Contains(buf.String(), "2001") {
				t.Errorf("log lost the expiry: %s", buf.String())
			}
		})
	}
}
