// Package components holds the small templ pieces pages are made of, with their typed props.
package components

import (
	"fmt"
	"net/url"

	"github.com/a-h/templ"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/relink/relink/models"
)

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	// Kind is "success", "info" or "error"; it picks the colour.
	Kind    string
	Message string
}

// SwitcherProps is what the sub-account switcher shows.
type SwitcherProps struct {
	// Current is the sub-account being viewed, nil on pages outside one.
	Current *models.SubAccountRef
	Query   string
	Results []models.SubAccountRef
	// Total counts every match, of which Results holds the first few.
	Total int64
	// Page marks the full list of the /switch page, as opposed to the header dropdown.
	Page bool
	// SearchFirst lists nothing until a search: support reaches every agency, and each
	// sub-account support sees is recorded in its history.
	SearchFirst bool
}

// ListID is the id of the result list, unique on a page that shows both lists.
func (p SwitcherProps) ListID() string {
	if p.Page {
		return "switch-page-results"
	}
	return "switcher-results"
}

// Summary says how many sub-accounts the list covers, in words.
func (p SwitcherProps) Summary() string {
	if p.SearchFirst {
		return "Search every agency's sub-accounts by name. Each sub-account listed is recorded in its history."
	}
	subs := Plural(p.Total, "sub-account", "sub-accounts")
	if p.Query == "" {
		return subs
	}
	verb := "match"
	if p.Total == 1 {
		verb = "matches"
	}
	return fmt.Sprintf("%s %s “%s”", subs, verb, p.Query)
}

// Shown is how many matches the list holds.
func (p SwitcherProps) Shown() int { return len(p.Results) }

// SubAccountURL is the connections page of a sub-account.
func SubAccountURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/accounts/%d/connections", id))
}

// SwitchURL is the full switcher page, with a search when q is not empty.
func SwitchURL(q string) templ.SafeURL {
	if q == "" {
		return "/switch"
	}
	return templ.SafeURL("/switch?q=" + url.QueryEscape(q))
}

// Count formats a count with thousands separators, as people read numbers.
func Count[N int | int64](n N) string {
	return countPrinter.Sprintf("%d", n)
}

var countPrinter = message.NewPrinter(language.English)

// Plural is a count with its noun, one or many: "1 asset", "1,204 assets".
func Plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Count(n) + " " + many
}

// StatusClass is the CSS class that colours a status badge.
func StatusClass(s models.Status) string {
	return "status status-" + string(s)
}
