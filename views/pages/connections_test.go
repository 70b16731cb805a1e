package pages_test

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/views/pages"
)

var (
	meta     = pages.ProviderInfo{Name: "meta", Label: "Facebook"}
	linkedin = pages.ProviderInfo{Name: "linkedin", Label: "LinkedIn"}
	cedar    = models.SubAccountRef{ID: 3, Name: "Cedar Dental", AgencyID: 1, AgencyName: "Northwind Agency"}
)

// metaConnection is a Facebook connection with both of Meta's clocks running.
func metaConnection(status models.Status, reason providers.Reason) models.ConnectionRow {
	return models.ConnectionRow{
		Connection: models.Connection{
			ID: 7, SubAccountID: cedar.ID, Provider: "meta", ExternalUserID: "10001", ExternalUserName: "Avery Agency",
			Status: status, Reason: reason,
			TokenExpiresAt:      at(-53*day - time.Hour),
			DataAccessExpiresAt: at(3*day + time.Hour),
			LastCheckedAt:       at(3 * time.Minute),
			CreatedAt:           time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC),
		},
		ConnectedByName: "Olivia Owner", ConnectedByEmail: "owner@northwind.test",
	}
}

// adAccount is a JPY ad account with everything a row can show wrong.
func adAccount() models.Asset {
	return models.Asset{
		ID: 11, ConnectionID: 7, SubAccountID: cedar.ID, Kind: providers.KindAdAccount, ExternalID: "act_555",
		Name: "Cedar Dental Tokyo", Selected: true, Currency: "JPY", AmountSpent: "12345", SpendCap: "0",
		AccountStatus: providers.AccountDisabled, DisableReason: 3, TosAccepted: ptr(false),
		FundingSourcePresent: ptr(false), UserTasks: "MANAGE,ADVERTISE,ANALYZE", Datasets: "111, 222",
		LastRefreshedAt: at(3 * time.Minute),
	}
}

func page2() models.Asset {
	return models.Asset{ID: 12, ConnectionID: 7, SubAccountID: cedar.ID, Kind: providers.KindPage, ExternalID: "page_1",
		Name: "Cedar Dental", Selected: true, UserTasks: "MODERATE", LastRefreshedAt: at(2 * time.Hour)}
}

func card(conn models.ConnectionRow, manage bool, assets ...models.Asset) pages.ConnectionCard {
	c := pages.ConnectionCard{SubAccountID: cedar.ID, Connection: conn, CanManage: manage, Now: now}
	for _, a := range assets {
		c.Assets = append(c.Assets, pages.AssetRow{SubAccountID: cedar.ID, Asset: a, CanManage: manage, Now: now})
	}
	return c
}

func connectionsView(manage bool, cards ...pages.ConnectionCard) pages.ConnectionsView {
	v := pages.ConnectionsView{SubAccount: cedar, Role: models.RoleAgencyOwner, CanManage: manage,
		Providers: []pages.ProviderInfo{meta, linkedin}, Now: now}
	if len(cards) > 0 {
		v.Groups = []pages.ProviderGroup{{Provider: meta, Cards: cards}}
	}
	return v
}

func TestConnectionsPageShowsEachConnectionWithItsHealth(t *testing.T) {
	conn := metaConnection(models.StatusPermissionsMissing, providers.ReasonMissingPermission)
	conn.ReasonDetail = "ads_management"
	doc := render(t, pages.Connections(page, connectionsView(true, card(conn, true, adAccount(), page2()))))

	if got := text(one(t, doc, "main h1")); got != "Cedar Dental" {
		t.Errorf("heading %q", got)
	}
	if !strings.Contains(text(doc.Find(".page-head")), "Northwind Agency") {
		t.Error("the header does not name the agency")
	}
	if got := attr(one(t, doc, "[data-testid=sub-account-history]"), "href"); got != "/accounts/3/history" {
		t.Errorf("History links to %q", got)
	}
	for _, p := range []string{"meta", "linkedin"} {
		b := one(t, doc, "[data-testid=connect-"+p+"]")
		form := b.Closest("form")
		if attr(form, "method") != "post" || attr(form, "action") != "/accounts/3/connect/"+p {
			t.Errorf("connect-%s posts with method %q to %q", p, attr(form, "method"), attr(form, "action"))
		}
		for _, a := range []string{"hx-post", "hx-get", "hx-target", "hx-boost"} {
			if _, ok := form.Attr(a); ok {
				t.Errorf("connect-%s goes through htmx (%s): it must leave for the provider", p, a)
			}
		}
	}
	if got := text(one(t, doc, "[data-testid=connect-meta]")); got != "Connect Facebook" {
		t.Errorf("the Facebook button says %q", got)
	}
	if got := text(one(t, doc, "[data-testid=provider-group][data-provider=meta] h2")); !strings.HasPrefix(got, "Facebook") {
		t.Errorf("the group heading says %q", got)
	}

	c := one(t, doc, "section[data-testid=connection]")
	for name, want := range map[string]string{"id": "connection-7", "data-status": "permissions_missing",
		"data-reason": "missing_permission", "data-provider": "meta"} {
		if got := attr(c, name); got != want {
			t.Errorf("card %s = %q, want %q", name, got, want)
		}
	}
	status := one(t, doc, "[data-testid=connection-status]")
	if text(status) != "Permissions missing" || !status.HasClass("status-permissions_missing") {
		t.Errorf("status badge %q with class %q", text(status), attr(status, "class"))
	}
	if got := text(c.Find(".card-who")); !strings.Contains(got, "Avery Agency") || !strings.Contains(got, "10001") {
		t.Errorf("the card does not name the provider user and id: %q", got)
	}
	reason := text(one(t, doc, "[data-testid=connection-reason]"))
	for _, want := range []string{providers.ReasonMissingPermission.Message(), providers.ReasonMissingPermission.Fix(), "ads_management"} {
		if !strings.Contains(reason, want) {
			t.Errorf("the reason box %q lacks %q", reason, want)
		}
	}
	for sel, want := range map[string]string{
		"[data-testid=token-expiry]":       "Token expires in 53 days",
		"[data-testid=data-access-expiry]": "Data access expired 3 days ago",
		"[data-testid=last-checked]":       "Last checked 3 minutes ago",
		"[data-testid=connected-by]":       "Connected by Olivia Owner on 1 May 2026",
	} {
		if got := text(one(t, doc, sel)); got != want {
			t.Errorf("%s says %q, want %q", sel, got, want)
		}
	}
	if got := attr(doc.Find("[data-testid=last-checked] time"), "title"); got != "2026-06-15 11:57 UTC" {
		t.Errorf("last checked has the exact time %q on hover", got)
	}
	if !one(t, doc, "[data-testid=data-access-expiry]").HasClass("tone-bad") {
		t.Error("an expired clock is not coloured")
	}
	if doc.Find("[data-testid=refresh-expiry]").Length() != 0 {
		t.Error("a Meta connection shows a renewal date it does not have")
	}

	table := one(t, doc, "table.asset-table")
	if table.Find("thead th").Length() != 5 {
		t.Errorf("the asset table has %d column headings", table.Find("thead th").Length())
	}
	if got := table.Find("tbody tr[data-testid=asset-row]").Length(); got != 2 {
		t.Errorf("%d asset rows, want 2", got)
	}
	// The actions come before the assets they act on.
	if html, _ := c.Html(); strings.Index(html, `data-testid="refresh-all"`) > strings.Index(html, "<table") {
		t.Error("the actions are below the asset table")
	}
}

func TestRefreshAllSwapsItsCardThroughHtmx(t *testing.T) {
	doc := render(t, pages.ConnectionCardView(card(metaConnection(models.StatusHealthy, ""), true, adAccount())))
	form := one(t, doc, "[data-testid=refresh-all]").Closest("form")
	if attr(form, "method") != "post" || attr(form, "action") != "/accounts/3/connections/7/refresh" {
		t.Errorf("Refresh all posts %q to %q", attr(form, "method"), attr(form, "action"))
	}
	if attr(form, "hx-post") != attr(form, "action") || attr(form, "hx-target") != "#connection-7" || attr(form, "hx-swap") != "outerHTML" {
		t.Errorf("Refresh all's htmx: hx-post %q, hx-target %q, hx-swap %q", attr(form, "hx-post"), attr(form, "hx-target"), attr(form, "hx-swap"))
	}
	if form.Find("svg.refresh-icon").Length() != 1 {
		t.Error("Refresh all has no icon to spin")
	}
	for sel, href := range map[string]string{
		"[data-testid=choose-assets]":      "/accounts/3/connections/7/assets",
		"[data-testid=connection-history]": "/accounts/3/connections/7/history",
		"[data-testid=disconnect]":         "/accounts/3/connections/7/disconnect",
	} {
		a := one(t, doc, sel)
		if goquery.NodeName(a) != "a" || attr(a, "href") != href {
			t.Errorf("%s is a <%s> to %q, want a link to %s", sel, goquery.NodeName(a), attr(a, "href"), href)
		}
	}
	re := one(t, doc, "[data-testid=reauthenticate]").Closest("form")
	if attr(re, "method") != "post" || attr(re, "action") != "/accounts/3/connections/7/reauthenticate" {
		t.Errorf("Reauthenticate posts to %q", attr(re, "action"))
	}
	if doc.Find("[data-testid=connection-outcome]").Length() != 0 {
		t.Error("a plain card shows an outcome")
	}
}

func TestReauthenticateIsTheMainActionOnlyWhenItIsNeeded(t *testing.T) {
	for _, tc := range []struct {
		status  models.Status
		primary bool
	}{
		{models.StatusHealthy, false},
		{models.StatusExpiring, false},
		{models.StatusDegraded, false},
		{models.StatusBlocked, false},
		{models.StatusReauthRequired, true},
		{models.StatusPermissionsMissing, true},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			doc := render(t, pages.ConnectionCardView(card(metaConnection(tc.status, ""), true)))
			if got := one(t, doc, "[data-testid=reauthenticate]").HasClass("primary"); got != tc.primary {
				t.Errorf("Reauthenticate emphasised: %v, want %v", got, tc.primary)
			}
		})
	}
}

func TestRefreshThatCannotHelpSaysReauthenticate(t *testing.T) {
	c := card(metaConnection(models.StatusReauthRequired, providers.ReasonTokenExpired), true)
	c.Outcome, c.OutcomeKind = "The connection's access has expired.", "error"
	doc := render(t, pages.ConnectionCardView(c))
	out := one(t, doc, "[data-testid=connection-outcome]")
	if attr(out, "role") != "status" || !out.HasClass("outcome-error") {
		t.Errorf("the outcome has role %q and class %q", attr(out, "role"), attr(out, "class"))
	}
	if !strings.Contains(text(out), "Refreshing did not help: reauthenticate") {
		t.Errorf("the outcome %q does not send the user to Reauthenticate", text(out))
	}

	c.Connection = metaConnection(models.StatusDegraded, providers.ReasonRateLimited)
	c.Outcome, c.OutcomeKind = "Facebook asked us to slow down.", "warn"
	doc = render(t, pages.ConnectionCardView(c))
	if out := one(t, doc, "[data-testid=connection-outcome]"); !out.HasClass("outcome-warn") || strings.Contains(text(out), "Reauthenticate") {
		t.Errorf("a transient outcome reads %q with class %q", text(out), attr(out, "class"))
	}
}

func TestReadOnlyPagesHaveNoFormsOrButtons(t *testing.T) {
	row := adAccount()
	for name, v := range map[string]pages.ConnectionsView{
		"with connections": connectionsView(false, card(metaConnection(models.StatusReauthRequired, providers.ReasonTokenExpired), false, row)),
		"empty":            connectionsView(false),
	} {
		t.Run(name, func(t *testing.T) {
			c := v
			if len(c.Groups) > 0 {
				c.Groups[0].Cards[0].Unchosen = 4
			}
			doc := render(t, pages.Connections(page, c))
			main := doc.Find("main")
			if n := main.Find("form").Length(); n != 0 {
				t.Errorf("a read-only page has %d forms", n)
			}
			if n := main.Find("button").Length(); n != 0 {
				t.Errorf("a read-only page has %d buttons", n)
			}
			for _, id := range []string{"refresh-asset", "refresh-all", "reauthenticate", "connect-meta", "connect-linkedin",
				"choose-assets", "disconnect", "unchosen"} {
				if doc.Find("[data-testid="+id+"]").Length() != 0 {
					t.Errorf("a read-only page shows %s", id)
				}
			}
		})
	}
	doc := render(t, pages.Connections(page, connectionsView(false, card(metaConnection(models.StatusHealthy, ""), false, row))))
	if doc.Find("[data-testid=connection-history]").Length() != 1 {
		t.Error("a read-only user cannot reach the connection's history")
	}
}

func TestEmptyPageExplainsConnecting(t *testing.T) {
	doc := render(t, pages.Connections(page, connectionsView(true)))
	empty := one(t, doc, "[data-testid=connections-empty]")
	words := text(empty)
	for _, want := range []string{"No connections yet", "Pages", "ad accounts", "Instagram", "LinkedIn", "health", "expire"} {
		if !strings.Contains(words, want) {
			t.Errorf("the empty state %q does not mention %q", words, want)
		}
	}
	if empty.Find("[data-testid=connect-meta]").Length() != 1 || empty.Find("[data-testid=connect-linkedin]").Length() != 1 {
		t.Error("the empty state has no Connect buttons")
	}
	if doc.Find("[data-testid=connect-meta]").Length() != 1 {
		t.Error("the Connect buttons are shown twice on an empty page")
	}

	doc = render(t, pages.Connections(page, connectionsView(false)))
	if !strings.Contains(text(one(t, doc, "[data-testid=connections-readonly]")), "admin") {
		t.Error("a read-only empty state does not say an admin must connect")
	}
}

func TestAssetRow(t *testing.T) {
	r := pages.AssetRow{SubAccountID: cedar.ID, Asset: adAccount(), CanManage: true, Now: now}
	doc := renderRow(t, pages.AssetRowView(r))
	tr := one(t, doc, "tr[data-testid=asset-row]")
	for name, want := range map[string]string{"id": "asset-11", "data-asset-id": "11", "data-kind": "ad_account"} {
		if got := attr(tr, name); got != want {
			t.Errorf("row %s = %q, want %q", name, got, want)
		}
	}
	if got := attr(tr.Find(".kind-icon"), "title"); got != "Ad account" {
		t.Errorf("the kind icon is titled %q", got)
	}
	if !strings.Contains(text(tr.Find(".col-asset")), "Ad account") {
		t.Error("the kind is not in words next to the icon")
	}
	if got := attr(tr.Find(".asset-name"), "title"); got != "Cedar Dental Tokyo" {
		t.Errorf("the name's hover says %q", got)
	}
	if got := text(tr.Find(".col-asset code.ext-id")); got != "act_555" {
		t.Errorf("external id %q", got)
	}
	for sel, want := range map[string]string{
		"[data-testid=account-status]":   "Disabled",
		"[data-testid=disable-reason]":   "Payment risk: a payment failed or looked unsafe",
		"[data-testid=tos-not-accepted]": "Terms not accepted",
		"[data-testid=no-funding]":       "No payment method",
		"[data-testid=amount-spent]":     "Spent ¥12,345",
		"[data-testid=spend-cap]":        "No cap",
		"[data-testid=datasets]":         "2 datasets",
		"[data-testid=last-refreshed]":   "3 minutes ago",
	} {
		if got := text(one(t, doc, sel)); got != want {
			t.Errorf("%s says %q, want %q", sel, got, want)
		}
	}
	if !one(t, doc, "[data-testid=account-status]").HasClass("flag-bad") {
		t.Error("a disabled account is not red")
	}
	if got := attr(one(t, doc, "[data-testid=datasets]"), "title"); got != "111, 222" {
		t.Errorf("the datasets' ids on hover are %q", got)
	}
	var chips []string
	doc.Find("[data-testid=user-tasks] .chip").Each(func(_ int, s *goquery.Selection) { chips = append(chips, text(s)) })
	if strings.Join(chips, " ") != "manage advertise analyze" {
		t.Errorf("tasks shown as %q", chips)
	}
	if got := attr(doc.Find("[data-testid=last-refreshed] time"), "title"); got != "2026-06-15 11:57 UTC" {
		t.Errorf("last refreshed has the exact time %q on hover", got)
	}

	b := one(t, doc, "button[data-testid=refresh-asset]")
	if attr(b, "aria-label") != "Refresh Cedar Dental Tokyo" || attr(b, "title") != "Refresh" || b.Find("svg").Length() != 1 {
		t.Errorf("the refresh button is labelled %q, titled %q", attr(b, "aria-label"), attr(b, "title"))
	}
	form := b.Closest("form")
	for name, want := range map[string]string{"method": "post", "action": "/accounts/3/assets/11/refresh",
		"hx-post": "/accounts/3/assets/11/refresh", "hx-target": "#asset-11", "hx-swap": "outerHTML"} {
		if got := attr(form, name); got != want {
			t.Errorf("refresh form %s = %q, want %q", name, got, want)
		}
	}
	if doc.Find("[data-testid=reauth-hint]").Length() != 0 {
		t.Error("a live connection's row says to reauthenticate")
	}
}

func TestAssetRowMoney(t *testing.T) {
	a := adAccount()
	a.Currency, a.AmountSpent, a.SpendCap = "USD", "12345", "5000000"
	doc := renderRow(t, pages.AssetRowView(pages.AssetRow{SubAccountID: 3, Asset: a, Now: now}))
	if got := text(one(t, doc, "[data-testid=amount-spent]")); got != "Spent $123.45" {
		t.Errorf("USD spend %q", got)
	}
	if got := text(one(t, doc, "[data-testid=spend-cap]")); got != "Cap $50,000.00" {
		t.Errorf("USD cap %q", got)
	}
	a.SpendCap = ""
	doc = renderRow(t, pages.AssetRowView(pages.AssetRow{SubAccountID: 3, Asset: a, Now: now}))
	if got := text(one(t, doc, "[data-testid=spend-cap]")); got != "No cap" {
		t.Errorf("an empty cap reads %q", got)
	}
	doc = renderRow(t, pages.AssetRowView(pages.AssetRow{SubAccountID: 3, Asset: page2(), Now: now}))
	if doc.Find("[data-testid=amount-spent], [data-testid=spend-cap], [data-testid=tos-not-accepted], [data-testid=no-funding]").Length() != 0 {
		t.Error("a Page shows money or ad-account flags")
	}
}

func TestAssetRowOutcomesAndProblems(t *testing.T) {
	a := adAccount()
	a.MissingSince = at(2 * day)
	a.LastErrorReason = providers.ReasonLostAssetRole
	r := pages.AssetRow{SubAccountID: 3, Asset: a, CanManage: true, Dead: true, Now: now,
		Outcome: "Already refreshing", OutcomeKind: "warn"}
	doc := renderRow(t, pages.AssetRowView(r))
	tr := one(t, doc, "tr")
	if !tr.HasClass("is-missing") || !strings.Contains(text(one(t, doc, "[data-testid=asset-unreachable]")), "No longer reachable") {
		t.Error("an unreachable asset is not flagged")
	}
	if got := text(one(t, doc, "[data-testid=asset-problem]")); got != providers.ReasonLostAssetRole.Message() {
		t.Errorf("the asset's problem reads %q", got)
	}
	out := one(t, doc, "[data-testid=asset-outcome]")
	if text(out) != "Already refreshing" || attr(out, "role") != "status" || !out.HasClass("outcome-warn") {
		t.Errorf("outcome %q, role %q, class %q", text(out), attr(out, "role"), attr(out, "class"))
	}
	if got := text(one(t, doc, "[data-testid=reauth-hint]")); got != "Reauthenticate to refresh" {
		t.Errorf("a dead connection's row hints %q", got)
	}
	if doc.Find("[data-testid=refresh-asset]").Length() != 1 {
		t.Error("the refresh button of a dead connection's row is gone")
	}

	r.Outcome, r.OutcomeKind = "Updated just now", "ok"
	if out := one(t, renderRow(t, pages.AssetRowView(r)), "[data-testid=asset-outcome]"); !out.HasClass("outcome-ok") {
		t.Errorf("a success is coloured %q", attr(out, "class"))
	}
	r.CanManage = false
	if doc := renderRow(t, pages.AssetRowView(r)); doc.Find("form, button").Length() != 0 {
		t.Error("a read-only row has a form or button")
	}
}

func TestDisconnectedCardIsReadOnly(t *testing.T) {
	conn := metaConnection(models.StatusDisconnected, "")
	conn.DisconnectedAt = at(10 * day)
	doc := render(t, pages.ConnectionCardView(card(conn, true, adAccount())))
	c := one(t, doc, "section[data-testid=connection]")
	if !c.HasClass("is-disconnected") {
		t.Error("a disconnected card is not greyed")
	}
	if got := text(one(t, doc, "[data-testid=disconnected-note]")); !strings.HasPrefix(got, "Disconnected on 5 Jun 2026") {
		t.Errorf("the card says %q", got)
	}
	for _, id := range []string{"refresh-asset", "refresh-all", "reauthenticate", "choose-assets", "disconnect", "token-expiry"} {
		if doc.Find("[data-testid="+id+"]").Length() != 0 {
			t.Errorf("a disconnected card shows %s", id)
		}
	}
	if doc.Find("[data-testid=asset-row]").Length() != 1 {
		t.Error("a disconnected card no longer lists its assets")
	}
	again := one(t, doc, "[data-testid=connect-again]").Closest("form")
	if attr(again, "method") != "post" || attr(again, "action") != "/accounts/3/connect/meta" {
		t.Errorf("Connect again posts to %q", attr(again, "action"))
	}
	if doc := render(t, pages.ConnectionCardView(card(conn, false))); doc.Find("form, button").Length() != 0 {
		t.Error("a read-only disconnected card offers to connect again")
	}
}

func TestLinkedInCardShowsItsRenewal(t *testing.T) {
	conn := metaConnection(models.StatusHealthy, "")
	conn.Provider, conn.DataAccessExpiresAt = "linkedin", nil
	conn.RefreshExpiresAt = at(-300 * day)
	doc := render(t, pages.ConnectionCardView(card(conn, true)))
	if got := text(one(t, doc, "[data-testid=refresh-expiry]")); got != "Renewable until 11 Apr 2027 (in 300 days)" {
		t.Errorf("renewal reads %q", got)
	}
	if doc.Find("[data-testid=data-access-expiry]").Length() != 0 {
		t.Error("a connection without a data-access clock shows one")
	}
	if got := attr(one(t, doc, "section[data-testid=connection]"), "data-provider"); got != "linkedin" {
		t.Errorf("data-provider %q", got)
	}
}

func TestUnchosenAssetsAreOffered(t *testing.T) {
	c := card(metaConnection(models.StatusHealthy, ""), true, adAccount())
	c.Unchosen = 3
	doc := render(t, pages.ConnectionCardView(c))
	u := one(t, doc, "[data-testid=unchosen]")
	if !strings.HasPrefix(text(u), "3 more assets available") || attr(u.Find("a"), "href") != "/accounts/3/connections/7/assets" {
		t.Errorf("the unchosen note reads %q", text(u))
	}
	c.Unchosen = 0
	if render(t, pages.ConnectionCardView(c)).Find("[data-testid=unchosen]").Length() != 0 {
		t.Error("the unchosen note shows with nothing unchosen")
	}
}

func TestDisconnectedNoteReadsAsSentences(t *testing.T) {
	conn := metaConnection(models.StatusDisconnected, "")
	conn.DisconnectedAt = at(10 * day)
	doc := render(t, pages.ConnectionCardView(card(conn, false)))
	if got := text(one(t, doc, "[data-testid=disconnected-note]")); got != "Disconnected on 5 Jun 2026. Its assets and history are kept, read-only." {
		t.Errorf("the note reads %q", got)
	}
	conn.DisconnectedAt = nil
	doc = render(t, pages.ConnectionCardView(card(conn, false)))
	if got := text(one(t, doc, "[data-testid=disconnected-note]")); got != "Disconnected. Its assets and history are kept, read-only." {
		t.Errorf("the note without a date reads %q", got)
	}
}

func TestAssetRowStatusWithOnlyADisableReason(t *testing.T) {
	a := page2()
	a.DisableReason = 3
	doc := renderRow(t, pages.AssetRowView(pages.AssetRow{SubAccountID: 3, Asset: a, Now: now}))
	cell := one(t, doc, "td.col-status")
	if cell.HasClass("cell-empty") || strings.Contains(text(cell), "—") {
		t.Errorf("a status cell with a disable reason reads %q with class %q", text(cell), attr(cell, "class"))
	}
	doc = renderRow(t, pages.AssetRowView(pages.AssetRow{SubAccountID: 3, Asset: page2(), Now: now}))
	if cell := one(t, doc, "td.col-status"); !cell.HasClass("cell-empty") || text(cell) != "—" {
		t.Errorf("an empty status cell reads %q with class %q", text(cell), attr(cell, "class"))
	}
}
