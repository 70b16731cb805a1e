package meta_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/meta"
)

// TestListsFailRatherThanTruncate: a list that does not end within MaxPages, or
// that holds an item of the wrong shape, is an error, never a silently shorter list.
func TestListsFailRatherThanTruncate(t *testing.T) {
	endless := func(w http.ResponseWriter, r *http.Request) {
		n := len(r.URL.Query().Get("after"))
		fmt.Fprintf(w, `{"data":[{"id":"%d","name":"P"}],"paging":{"cursors":{"after":"%s"},"next":"http://x/next"}}`, n, strings.Repeat("a", n+1))
	}
	badPixel := func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"data":[{"id":"1","name":"ok"},{"id":2,"name":["not","a","name"]}]}`))
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    func(c *meta.Client) error
		reason  providers.Reason
	}{
		{name: "endless pages", handler: endless, call: func(c *meta.Client) error {
			_, err := c.Pages(context.Background(), providers.Token{AccessToken: "t"})
			return err
		}, reason: providers.ReasonUnknown},
		{name: "pixel of the wrong shape", handler: badPixel, call: func(c *meta.Client) error {
			_, err := c.AdsPixels(context.Background(), providers.Token{AccessToken: "t"}, "act_1")
			return err
		}, reason: providers.ReasonProviderUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			c := meta.New(meta.Config{AppID: "1", AppSecret: "s", GraphURL: srv.URL, MaxPages: 5})
			err := tt.call(c)
			if pe, _ := providers.AsError(err); pe == nil || pe.Reason != tt.reason {
				t.Errorf("got %v, want %s", err, tt.reason)
			}
		})
	}
}
