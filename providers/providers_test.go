package providers_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/providers"
)

func TestEveryReasonHasMessageAndFix(t *testing.T) {
	reasons := providers.AllReasons()
	if len(reasons) != 13 {
		t.Fatalf("got %d reasons, want 13", len(reasons))
	}
	seen := map[string]bool{}
	for _, r := range reasons {
		if !r.Valid() {
			t.Errorf("%s not valid", r)
		}
		if r.Message() == "" || r.Fix() == "" {
			t.Errorf("%s lacks message or fix", r)
		}
		if r != providers.ReasonUnknown && r.Title() == providers.ReasonUnknown.Title() {
			t.Errorf("%s has no title of its own", r)
		}
		if seen[r.Message()] {
			t.Errorf("%s shares its message with another reason", r)
		}
		seen[r.Message()] = true
		if got, ok := providers.ParseReason(string(r)); !ok || got != r {
			t.Errorf("ParseReason(%q) = %q, %v", r, got, ok)
		}
	}
	if _, ok := providers.ParseReason("nope"); ok {
		t.Error("ParseReason accepted an unknown reason")
	}
}

func TestErrorNeverPrintsTokens(t *testing.T) {
	const secret = "EAAGsecretTOKEN123"
	tests := []struct {
		name string
		err  *providers.Error
	}{
		{
			name: "message with access_token",
			err: &providers.Error{Provider: "meta", Op: "me", Reason: providers.ReasonTokenExpired,
				Code: 190, Subcode: 463, Message: "bad token access_token=" + secret},
		},
		{
			name: "url error",
			err: &providers.Error{Provider: "meta", Reason: providers.ReasonProviderUnavailable,
				Err: providers.SanitizeErr(&url.Error{Op: "Get", URL: "https://graph.facebook.com/me?access_token=" + secret + "&appsecret_proof=abc", Err: errors.New("connection reset by peer")})},
		},
		{
			name: "bearer header",
			err: &providers.Error{Provider: "linkedin", Reason: providers.ReasonUnknown,
				Message: "Authorization: Bearer " + secret},
		},
		{
			name: "refresh token form",
			err: &providers.Error{Provider: "linkedin", Reason: providers.ReasonRefreshTokenInvalid,
				Message: "grant_type=refresh_token&refresh_token=" + secret + "&client_secret=" + secret},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wrapped := fmt.Errorf("app: check: %w", tt.err)
			for _, s := range []string{tt.err.Error(), wrapped.Error(), fmt.Sprintf("%+v", tt.err)} {
				if strings.Contains(s, secret) {
					t.Errorf("error string leaks the token: %s", s)
				}
			}
			if tt.err.Err != nil && strings.Contains(errors.Unwrap(tt.err).Error(), secret) {
				t.Errorf("unwrapped error leaks the token")
			}
			if got := providers.ReasonOf(wrapped); got != tt.err.Reason {
				t.Errorf("ReasonOf = %s, want %s", got, tt.err.Reason)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	e := &providers.Error{Provider: "meta", Op: "debug_token", Reason: providers.ReasonAppRemoved,
		HTTPStatus: 400, Code: 190, Subcode: 458, Type: "OAuthException", Message: "The user has not authorized application 1.", FBTraceID: "AbC"}
	want := "meta: debug_token: app_removed (http 400, code 190/458, OAuthException): The user has not authorized application 1. [fbtrace_id AbC]"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q\nwant %q", got, want)
	}
	if providers.ReasonOf(errors.New("plain")) != providers.ReasonUnknown {
		t.Error("ReasonOf(plain error) should be unknown")
	}
}

func TestTokenNeverPrintsSecrets(t *testing.T) {
	tok := providers.Token{AccessToken: "ACCESS-SECRET", RefreshToken: "REFRESH-SECRET", Expiry: time.Unix(0, 0)}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("tok", "token", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), buf.String()} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("token printed its secret: %s", s)
		}
	}
}

func TestAssetKinds(t *testing.T) {
	want := []string{"page", "ad_account", "instagram_account", "dataset", "linkedin_organization", "linkedin_ad_account"}
	got := providers.AssetKinds()
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if string(got[i]) != want[i] || !got[i].Valid() {
			t.Errorf("kind %d = %q, want %q", i, got[i], want[i])
		}
	}
	if providers.AssetKind("x").Valid() {
		t.Error("unknown kind is valid")
	}
}
