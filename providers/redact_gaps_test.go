package providers_test

import (
	"strings"
	"testing"

	"github.com/relink/relink/providers"
)

// TestRedactGaps: secrets in shapes other than query parameters and plain JSON
// fields (headers, encoded URLs, other languages' literals, Go field names, app
// tokens) are redacted too, while Graph's own messages stay readable.
func TestRedactGaps(t *testing.T) {
	const secret = "s3cr3tVALUEnotAtokenPattern987654"
	const linkedIn = "AQVx7Hk2mPq9Lr4Ns8Tv1Wz5Yb3Cd6Ef0Gh2Jk4"
	tests := []struct {
		name   string
		in     string
		secret string
	}{
		{name: "authorization oauth scheme", in: "Authorization: OAuth " + secret, secret: secret},
		{name: "authorization without scheme", in: "authorization: " + secret, secret: secret},
		{name: "url-encoded parameter", in: "next=https%3A%2F%2Fx.test%2Fcb%3Faccess_token%3D" + secret + "%26a%3D1", secret: secret},
		{name: "url-encoded after ampersand", in: "next=%2Fcb%3Fa%3D1%26refresh_token%3D" + secret, secret: secret},
		{name: "colon with spaces", in: "access_token : " + secret, secret: secret},
		{name: "python dict", in: `{'access_token': '` + secret + `'}`, secret: secret},
		{name: "single-quoted token field", in: `{'token': '` + secret + `'}`, secret: secret},
		{name: "go json field name", in: `{"AccessToken":"` + secret + `"}`, secret: secret},
		{name: "go %+v", in: `{ID:1 AccessToken:` + secret + ` Name:x}`, secret: secret},
		{name: "refresh token field name", in: `{"RefreshToken":"` + secret + `"}`, secret: secret},
		{name: "client secret yaml", in: "client_secret: " + secret, secret: secret},
		{name: "linkedin token after underscore", in: "token_" + linkedIn, secret: linkedIn},
		{name: "meta token after underscore", in: "page_EAALsecretTOKENvalue1234567890abcdef", secret: "EAALsecretTOKENvalue1234567890abcdef"},
		{name: "app token", in: "used 1234567890123456|0123456789abcdef0123456789abcdef to call", secret: "0123456789abcdef0123456789abcdef"},
		{name: "app token url-encoded", in: "input=1234567890123456%7C0123456789abcdef0123456789abcdef", secret: "0123456789abcdef0123456789abcdef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := providers.Redact(tt.in); strings.Contains(got, tt.secret[4:20]) {
				t.Errorf("Redact(%q) = %q", tt.in, got)
			}
		})
	}
}

// TestRedactKeepsMessages: provider messages without secrets come through whole.
func TestRedactKeepsMessages(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "graph expired", in: "Error validating access token: Session has expired on Tuesday, 06-Jan-26 10:00:00 PST."},
		{name: "graph cannot parse", in: "Invalid OAuth access token - Cannot parse access token"},
		{name: "graph error json", in: `{"error":{"message":"x","type":"OAuthException","code":190,"error_subcode":463}}`},
		{name: "error_code parameter", in: "error_code=200&error_reason=user_denied"},
		{name: "www-authenticate", in: `WWW-Authenticate: OAuth "Facebook Platform" "invalid_token" "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := providers.Redact(tt.in); got != tt.in {
				t.Errorf("Redact(%q) = %q", tt.in, got)
			}
		})
	}
}
