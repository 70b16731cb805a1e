package providers_test

import (
	"strings"
	"testing"

	"github.com/relink/relink/providers"
)

func TestRedactEveryShape(t *testing.T) {
	const secret = "EAALsecretTOKENvalue1234567890abcdef"
	tests := []struct {
		name string
		in   string
	}{
		{name: "query parameter", in: "GET /me?access_token=" + secret + "&fields=id"},
		{name: "form refresh token", in: "grant_type=refresh_token&refresh_token=" + secret},
		{name: "bearer header", in: "Authorization: Bearer " + secret},
		{name: "json access_token", in: `{"access_token":"` + secret + `","expires_in":"5183944"}`},
		{name: "json with spaces", in: `{ "access_token" : "` + secret + `" }`},
		{name: "json refresh_token", in: `{"refresh_token":"` + secret + `","expires_in":5183944}`},
		{name: "json page token in list", in: `{"data":[{"id":"1","name":"P","access_token":"` + secret + `"}]}`},
		{name: "json client_secret", in: `{"client_secret":"` + secret + `"}`},
		{name: "json id_token", in: `{"id_token":"` + secret + `"}`},
		{name: "escaped json in a string", in: `"{\"access_token\":\"` + secret + `\"}"`},
		{name: "bare meta token", in: "token " + secret + " was rejected"},
		{name: "bare linkedin token", in: "token AQV" + secret + " was rejected"},
		{name: "url-encoded in a url", in: "https://x/?a=1&access_token=" + secret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := providers.Redact(tt.in)
			if strings.Contains(got, secret) || strings.Contains(got, secret[4:20]) {
				t.Errorf("Redact(%q) = %q", tt.in, got)
			}
		})
	}
}

func TestExcerptIsShortAndRedacted(t *testing.T) {
	const secret = "EAALsecretTOKENvalue1234567890abcdef"
	tests := []struct {
		name string
		in   string
		max  int
	}{
		{name: "json token body", in: `{"access_token":"` + secret + `","expires_in":"5183944"}`, max: 200},
		{name: "html page", in: "<html><body><h1>Bad gateway</h1>" + strings.Repeat("x ", 500) + "</body></html>", max: 200},
		{name: "token cut in the middle", in: strings.Repeat("a", 190) + " access_token=" + secret, max: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := providers.Excerpt(tt.in, tt.max)
			if strings.Contains(got, secret[:12]) || strings.Contains(got, "<") || len(got) > tt.max+len("…") {
				t.Errorf("Excerpt = %q", got)
			}
		})
	}
}

func TestErrorMessageIsRedactedAtConstruction(t *testing.T) {
	const secret = "EAALsecretTOKENvalue1234567890abcdef"
	e := providers.NewError("meta", "me", providers.ReasonUnknown, `{"access_token":"`+secret+`"}`)
	if strings.Contains(e.Message, secret) {
		t.Errorf("Message = %q", e.Message)
	}
}
