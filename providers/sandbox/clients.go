package sandbox

import (
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/meta"
)

// MetaConfig configures Relink's Meta client to talk to this sandbox as the app served at
// base (scheme://host), with its OAuth callback at base/oauth/meta/callback and the
// sandbox's clock.
func (s *Sandbox) MetaConfig(base string) meta.Config {
	u := s.URLs(base)
	return meta.Config{AppID: s.opts.MetaAppID, AppSecret: s.opts.MetaAppSecret, GraphURL: u.MetaGraph, WWWURL: u.MetaWWW,
		RedirectURL: base + "/oauth/meta/callback", Clock: s.clock}
}

// LinkedInConfig is MetaConfig for LinkedIn.
func (s *Sandbox) LinkedInConfig(base string) linkedin.Config {
	u := s.URLs(base)
	return linkedin.Config{ClientID: s.opts.LinkedInClientID, ClientSecret: s.opts.LinkedInClientSecret,
		APIURL: u.LinkedInAPI, WWWURL: u.LinkedInWWW, RedirectURL: base + "/oauth/linkedin/callback", Clock: s.clock}
}
