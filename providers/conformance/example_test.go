package conformance_test

import (
	"fmt"
	"net/http"

	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
)

// Example shows how serve wires the providers to the sandbox in sandbox mode.
func Example() {
	sb := sandbox.New(sandbox.Options{})
	mux := http.NewServeMux()
	mux.Handle("/sandbox", sb) // full paths: no http.StripPrefix
	mux.Handle("/sandbox/", sb)

	urls := sb.URLs("http://localhost:8080")
	metaID, metaSecret := sb.MetaApp()
	liID, liSecret := sb.LinkedInApp()
	var clock providers.Clock = sb.Clock() // the app reads time from here too

	all := []providers.Provider{
		meta.New(meta.Config{AppID: metaID, AppSecret: metaSecret,
			RedirectURL: "http://localhost:8080/auth/meta/callback",
			GraphURL:    urls.MetaGraph, WWWURL: urls.MetaWWW, Clock: clock}),
		linkedin.New(linkedin.Config{ClientID: liID, ClientSecret: liSecret,
			RedirectURL: "http://localhost:8080/auth/linkedin/callback",
			APIURL:      urls.LinkedInAPI, WWWURL: urls.LinkedInWWW, Clock: clock}),
	}
	for _, p := range all {
		fmt.Println(p.Name(), p.Goth().Name())
	}
	fmt.Println(urls.MetaGraph)
	// Output:
	// meta meta
	// linkedin linkedin
	// http://localhost:8080/sandbox/meta/graph
}
