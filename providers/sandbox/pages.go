package sandbox

import (
	"embed"
	"html/template"
	"net/http"
	"strings"
)

//go:embed templates
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

type hiddenField struct{ Name, Value string }

type pageBase struct {
	Title, Brand, Prefix, AppName string
}

func (s *Sandbox) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := templates.ExecuteTemplate(w, name, data); err != nil {
		s.logger.Error("sandbox: render", "template", name, "err", err)
	}
}

func (s *Sandbox) renderError(w http.ResponseWriter, status int, brand, heading, msg string) {
	s.render(w, status, "error.html", struct {
		pageBase
		Heading, Message string
	}{pageBase{Title: heading, Brand: brand, Prefix: s.prefix}, heading, msg})
}

// notFound answers a path the sandbox does not serve with a page in its own
// layout that leads back to the panel; Go's plain-text 404 would look like the
// app had broken. brand is the header of the space the path is in.
func (s *Sandbox) notFound(w http.ResponseWriter, r *http.Request, brand string) {
	s.renderError(w, http.StatusNotFound, brand, "Page not found", "Nothing in the sandbox answers "+r.Method+" "+r.URL.Path+".")
}

// methodNotAllowed is notFound's counterpart for a path that takes other methods.
func (s *Sandbox) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow ...string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	s.renderError(w, http.StatusMethodNotAllowed, "Relink", "Method not allowed", r.URL.Path+" takes "+strings.Join(allow, " or ")+", not "+r.Method+".")
}

// crossOriginDenied answers a state-changing request that http.CrossOriginProtection
// refused: JSON on the JSON API, a sandbox page elsewhere.
func (s *Sandbox) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	if p := strings.TrimPrefix(r.URL.Path, s.prefix); p == "/api" || strings.HasPrefix(p, "/api/") {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused"})
		return
	}
	s.renderError(w, http.StatusForbidden, "Relink", "Request refused", "This request came from another site, so the sandbox did not act on it. Use the control panel itself.")
}

func serveCSS(w http.ResponseWriter, r *http.Request) {
	b, _ := templateFS.ReadFile("templates/sandbox.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
}

// avatarPNG is a 1×1 grey PNG served as every fake user's picture.
var avatarPNG = []byte{0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b, 0x55, 0x00, 0x00, 0x00,
	0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x68, 0x00, 0x00, 0x00, 0x82, 0x00, 0x81, 0x4c, 0x17, 0xd7, 0xdf, 0x00,
	0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82}

func serveAvatar(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(avatarPNG)
}
