package pages

import (
	"fmt"
	"time"

	"github.com/a-h/templ"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
)

// ProviderInfo is a provider the sub-account can connect.
type ProviderInfo struct {
	// Name is "meta" or "linkedin"; the Connect button's data-testid is "connect-"+Name.
	Name string
	// Label is "Facebook" or "LinkedIn".
	Label string
}

// ConnectionsView is the connections page of one sub-account.
type ConnectionsView struct {
	SubAccount models.SubAccountRef
	Role       models.Role
	// CanManage shows Connect, Choose assets, Refresh, Reauthenticate and Disconnect;
	// without it the page is read-only (no buttons at all).
	CanManage bool
	// Providers are those that can be connected, in order.
	Providers []ProviderInfo
	// Groups holds the connections per provider, providers without connections omitted.
	Groups []ProviderGroup
	// Now is the app's clock (the sandbox's in sandbox mode) for countdowns and "ago".
	Now time.Time
}

// Empty reports whether the sub-account has no connection at all.
func (v ConnectionsView) Empty() bool { return len(v.Groups) == 0 }

// ProviderGroup is one provider's connections.
type ProviderGroup struct {
	Provider ProviderInfo
	Cards    []ConnectionCard
}

// ConnectionCard is one connection with its chosen assets: the unit Refresh all swaps
// (id "connection-{ID}").
type ConnectionCard struct {
	SubAccountID int64
	Connection   models.ConnectionRow
	Assets       []AssetRow
	// Unchosen counts assets the connection reaches that are not connected here (Choose
	// assets offers them).
	Unchosen  int
	CanManage bool
	Now       time.Time
	// Outcome is the result of the action that rendered this card (Refresh all), empty
	// on a plain page view; OutcomeKind is "ok", "warn" (transient) or "error".
	Outcome     string
	OutcomeKind string
	// Checked says the outcome is a health check's (Check now), not a refresh's.
	Checked bool
}

// AssetRow is one row of a connection's asset table: the unit the refresh icon swaps (id
// "asset-{ID}").
type AssetRow struct {
	SubAccountID int64
	Asset        models.Asset
	CanManage    bool
	// Dead is set when the connection needs reauthentication: refreshing cannot help.
	Dead bool
	Now  time.Time
	// Outcome is the result of the refresh that rendered this row ("Updated just now", the
	// problem, "Already refreshing"); OutcomeKind is "ok", "warn" or "error".
	Outcome     string
	OutcomeKind string
}

// ConnectionURL is the page of a connection's sub-account, scrolled to it.
func ConnectionURL(subAccountID, connectionID int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/accounts/%d/connections#connection-%d", subAccountID, connectionID))
}

// ActionURL is the URL of an action on a connection, such as "refresh" or "disconnect".
func ActionURL(subAccountID, connectionID int64, action string) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/accounts/%d/connections/%d/%s", subAccountID, connectionID, action))
}

// AssetRefreshURL is where the refresh icon of an asset posts.
func AssetRefreshURL(subAccountID, assetID int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/accounts/%d/assets/%d/refresh", subAccountID, assetID))
}

// PickerView is the asset picker, after the provider's dialog or from "Choose assets".
type PickerView struct {
	SubAccount models.SubAccountRef
	Picker     connection.Picker
	// Action is where the form posts; its checkboxes are named "asset" with Choice.Key values.
	Action templ.SafeURL
	// Cancel leads back without saving.
	Cancel templ.SafeURL
	// Error is shown above the form (for example nothing chosen), with status 422.
	Error string
}

// DisconnectView is the confirmation page of a disconnect.
type DisconnectView struct {
	SubAccount models.SubAccountRef
	Connection models.ConnectionRow
	// Assets counts the connection's chosen assets, which stay listed read-only.
	Assets int
}

// HistoryView is a page of history: one connection's, or the whole sub-account's.
type HistoryView struct {
	SubAccount models.SubAccountRef
	// Connection is nil for the whole sub-account.
	Connection *models.ConnectionRow
	Rows       []models.HistoryRow
	// Kinds lists every event kind for the filter; Kind is the one chosen ("" all).
	Kinds []string
	Kind  string
	// NextURL leads to the older events; empty on the last page.
	NextURL templ.SafeURL
	// FirstURL leads back to the newest events; empty on the first page.
	FirstURL templ.SafeURL
	Now      time.Time
}
