package linkedin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
)

// TestListsFailRatherThanTruncate: a collection that does not end within MaxPages
// is an error, never a silently shorter list.
func TestListsFailRatherThanTruncate(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		reason providers.Reason
	}{
		{name: "endless full pages", body: `{"elements":[` + repeatACL(100) + `],"paging":{"start":0,"count":100}}`, reason: providers.ReasonUnknown},
		{name: "element of the wrong shape", body: `{"elements":[{"organization":5}]}`, reason: providers.ReasonProviderUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			c := linkedin.New(linkedin.Config{ClientID: "1", ClientSecret: "s", APIURL: srv.URL, WWWURL: srv.URL, MaxPages: 3})
			_, err := c.DiscoverAssets(context.Background(), providers.Token{AccessToken: "t"})
			if pe, _ := providers.AsError(err); pe == nil || pe.Reason != tt.reason {
				t.Errorf("got %v, want %s", err, tt.reason)
			}
		})
	}
}

func repeatACL(n int) string {
	s := ""
	for i := range n {
		if i > 0 {
			s += ","
		}
		s += `{"organization":"urn:li:organization:1","role":"ADMINISTRATOR"}`
	}
	return s
}
