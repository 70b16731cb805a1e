// Package static embeds the files served under /static/: styles, scripts and vendored htmx.
package static

import "embed"

// Files holds every asset, served as they are.
//
//go:embed *.css *.js *.svg
var Files embed.FS
