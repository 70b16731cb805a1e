// Package layouts holds the page frames every screen renders inside.
package layouts

import (
	"time"

	"github.com/a-h/templ"

	"github.com/relink/relink/models"
	"github.com/relink/relink/views/components"
)

// Page is what the frame around every signed-in screen needs.
type Page struct {
	Title string
	// Email of the signed-in user; empty on the login and error pages.
	Email string
	// RoleLabel is the user's role where they are, e.g. "Account admin".
	RoleLabel string
	// Switcher is nil on pages that show none.
	Switcher *components.SwitcherProps
	// SubAccount is the sub-account being viewed, for the section links.
	SubAccount *models.SubAccountRef
	// Section marks the current link of the navigation: "overview" or "connections".
	Section string
	Flashes []components.Flash
	// ReadOnly shows the support banner: nothing can be changed here.
	ReadOnly bool
	// NoOverview hides the Overview link from someone who reaches a single sub-account.
	NoOverview bool
	// Banners are the current sub-account's connections that need action.
	Banners []Banner
	// DevMail links the sandbox's outbox viewer (/dev/mail) from the navigation.
	DevMail bool
	// Incidents are the providers not answering right now, shown to everyone.
	Incidents []Incident
}

// Incident is a provider that stopped answering for many connections at once.
type Incident struct {
	// Provider is "Facebook" or "LinkedIn".
	Provider string
	Since    time.Time
}

// SignedIn reports whether the page is shown to a signed-in user.
func (p Page) SignedIn() bool { return p.Email != "" }

// Banner is a connection of the current sub-account that needs someone to act, shown at
// the top of every page of the sub-account (data-testid="connection-banner").
type Banner struct {
	ConnectionID int64
	// Provider is "Facebook" or "LinkedIn"; Account the provider user's name.
	Provider string
	Account  string
	Status   models.Status
	// Message is the reason in plain words, Fix what to do.
	Message string
	Fix     string
	// FixURL leads to the connection on the connections page.
	FixURL templ.SafeURL
}
