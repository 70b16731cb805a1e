// Package layouts holds the page frames every screen renders inside.
package layouts

import (
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
}

// SignedIn reports whether the page is shown to a signed-in user.
func (p Page) SignedIn() bool { return p.Email != "" }
