package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// healthz answers while the process is up.
func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 only when the database is reachable and fully migrated.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := a.store.Ping(ctx); err != nil {
		a.log.Warn("not ready", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	if err := a.store.CheckMigrated(ctx); err != nil {
		a.log.Warn("not ready", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database not migrated\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// staticFiles serves the files of /static/ with a short cache, enough for a page's assets
// between clicks; folders are not listed.
func (a *App) staticFiles() http.Handler {
	fs := http.StripPrefix("/static/", http.FileServerFS(a.static))
	return a.handle(func(w http.ResponseWriter, r *http.Request) error {
		if strings.HasSuffix(r.URL.Path, "/") {
			return errNotFound(nil)
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		fs.ServeHTTP(w, r)
		return nil
	})
}
