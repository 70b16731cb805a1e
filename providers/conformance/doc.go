// Package conformance holds tests, and only tests, proving that the sandbox is
// wire-compatible with OAuth and Graph clients that nobody at Relink wrote:
// golang.org/x/oauth2 and goth's own facebook provider, plus Relink's goth providers
// driven the way gothic drives them.
package conformance
