package oauth

import (
	"testing"

	"github.com/markbates/goth"

	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/meta"
)

func TestRequestedScopesAreReadFromTheDialogURL(t *testing.T) {
	tests := []struct {
		name string
		p    goth.Provider
		want string
	}{
		{name: "meta", p: meta.New(meta.Config{AppID: "1", AppSecret: "s"}).Goth(),
			want: "public_profile,email,pages_show_list,pages_read_engagement,instagram_basic,ads_read,ads_management,business_management"},
		{name: "linkedin", p: linkedin.New(linkedin.Config{ClientID: "1", ClientSecret: "s"}).Goth(),
			want: "openid,profile,email,r_organization_admin,r_ads"},
	}
	for _, tt := range tests {
		if got := requestedScopes(tt.p); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
