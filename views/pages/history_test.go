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

func historyRows() []models.HistoryRow {
	conn := int64(7)
	return []models.HistoryRow{
		{
			ConnectionEvent: models.ConnectionEvent{ID: 30, ConnectionID: &conn, Kind: models.EventRefreshFailed, ActorType: models.ActorSystem,
				OldStatus: models.StatusHealthy, NewStatus: models.StatusReauthRequired, Reason: providers.ReasonPasswordChanged,
				ProviderCode: 190, ProviderSubcode: 460, ProviderMessage: "Error validating access token",
				RequestID: "req-abc123", Detail: "Scheduled check", CreatedAt: now.Add(-3 * time.Minute)},
			Provider: "meta", ExternalUserName: "Avery Agency",
		},
		{
			ConnectionEvent: models.ConnectionEvent{ID: 29, ConnectionID: &conn, Kind: models.EventAssetAdded, ActorType: models.ActorUser,
				CreatedAt: now.Add(-2 * time.Hour)},
			ActorName: "Olivia Owner", ActorEmail: "owner@northwind.test", Provider: "meta", ExternalUserName: "Avery Agency",
			AssetName: "Cedar Ads", AssetExternalID: "act_555",
		},
		{
			ConnectionEvent: models.ConnectionEvent{ID: 28, Kind: models.EventSupportView, ActorType: models.ActorSupport,
				CreatedAt: now.Add(-3 * day)},
			ActorEmail: "help@relink.test",
		},
		{
			ConnectionEvent: models.ConnectionEvent{ID: 27, ConnectionID: &conn, Kind: models.EventConnected, ActorType: models.ActorUser,
				NewStatus: models.StatusHealthy, CreatedAt: now.Add(-30 * day)},
			ActorEmail: "admin@northwind.test", Provider: "meta", ExternalUserName: "Avery Agency",
		},
	}
}

func historyView() pages.HistoryView {
	return pages.HistoryView{SubAccount: cedar, Rows: historyRows(), Kinds: models.EventKinds, Now: now}
}

func TestHistoryOfASubAccount(t *testing.T) {
	doc := render(t, pages.History(page, historyView()))
	if got := text(one(t, doc, "main h1")); got != "History of Cedar Dental" {
		t.Errorf("heading %q", got)
	}
	events := doc.Find("[data-testid=history-event]")
	if events.Length() != 4 {
		t.Fatalf("%d events, want 4", events.Length())
	}
	var kinds, actors []string
	events.Each(func(_ int, e *goquery.Selection) {
		kinds = append(kinds, text(e.Find(".history-kind")))
		actors = append(actors, text(e.Find("[data-testid=history-actor]")))
	})
	if got := strings.Join(kinds, "|"); got != "Refresh failed|Asset added|Viewed by support|Connected" {
		t.Errorf("kinds %q", got)
	}
	if got := strings.Join(actors, "|"); got != "by Relink|by Olivia Owner|by Support: help@relink.test|by admin@northwind.test" {
		t.Errorf("actors %q", got)
	}

	first := events.First()
	if got := attr(first.Find(".history-when time"), "title"); got != "2026-06-15 11:57 UTC" {
		t.Errorf("the time's hover says %q", got)
	}
	if got := text(first.Find(".history-when")); got != "3 minutes ago" {
		t.Errorf("when %q", got)
	}
	st := first.Find("[data-testid=history-status] .status")
	if st.Length() != 2 || !st.First().HasClass("status-healthy") || !st.Last().HasClass("status-reauth_required") ||
		text(st.Last()) != "Reauthentication required" {
		t.Errorf("the status change reads %q", text(first.Find("[data-testid=history-status]")))
	}
	for sel, want := range map[string]string{
		"[data-testid=history-reason]":         providers.ReasonPasswordChanged.Message(),
		"[data-testid=history-provider-error]": "Facebook error 190/460: Error validating access token",
		"[data-testid=history-connection]":     "Connection: Facebook · Avery Agency",
		".history-detail":                      "Scheduled check",
		".history-request code":                "req-abc123",
	} {
		if got := text(first.Find(sel)); got != want {
			t.Errorf("%s says %q, want %q", sel, got, want)
		}
	}
	if got := text(events.Eq(1).Find("[data-testid=history-asset]")); got != "Asset: Cedar Ads act_555" {
		t.Errorf("the asset reads %q", got)
	}
	if events.Eq(2).Find("[data-testid=history-connection], [data-testid=history-status], [data-testid=history-provider-error]").Length() != 0 {
		t.Error("an event about no connection shows one, or a status, or an error")
	}
	if got := text(events.Eq(3).Find("[data-testid=history-status]")); got != "Healthy" {
		t.Errorf("a first status reads %q", got)
	}
	if doc.Find(".pager").Length() != 0 {
		t.Error("a single page shows pagination")
	}
}

func TestHistoryFilter(t *testing.T) {
	v := historyView()
	v.Kind = models.EventRefreshFailed
	doc := render(t, pages.History(page, v))
	form := one(t, doc, "form[data-testid=history-filter]")
	if attr(form, "method") != "get" {
		t.Errorf("the filter is sent with %q", attr(form, "method"))
	}
	opts := form.Find("select[name=kind] option")
	if opts.Length() != len(models.EventKinds)+1 || text(opts.First()) != "All events" || attr(opts.First(), "value") != "" {
		t.Errorf("%d options, the first %q", opts.Length(), text(opts.First()))
	}
	sel := form.Find("option[selected]")
	if sel.Length() != 1 || attr(sel, "value") != "refresh_failed" || text(sel) != "Refresh failed" {
		t.Errorf("selected option %q (%q)", attr(sel, "value"), text(sel))
	}
	if text(form.Find("button[type=submit]")) != "Filter" {
		t.Error("no Filter button")
	}
}

func TestHistoryOfAConnection(t *testing.T) {
	conn := metaConnection(models.StatusHealthy, "")
	v := historyView()
	v.Connection = &conn
	v.NextURL, v.FirstURL = "/accounts/3/connections/7/history?before=x", "/accounts/3/connections/7/history"
	doc := render(t, pages.History(page, v))
	if got := text(one(t, doc, "main h1")); got != "History of the Facebook connection of Avery Agency" {
		t.Errorf("heading %q", got)
	}
	if doc.Find("[data-testid=history-connection]").Length() != 0 {
		t.Error("one connection's history names the connection on every event")
	}
	if doc.Find("[data-testid=history-asset]").Length() != 1 {
		t.Error("the asset of an event is not shown")
	}
	if got := attr(one(t, doc, "[data-testid=history-next]"), "href"); got != string(v.NextURL) {
		t.Errorf("Older events leads to %q", got)
	}
	if got := text(one(t, doc, "[data-testid=history-next]")); got != "Older events" {
		t.Errorf("next link says %q", got)
	}
	if got := attr(one(t, doc, "[data-testid=history-first]"), "href"); got != string(v.FirstURL) {
		t.Errorf("Newest leads to %q", got)
	}
}

func TestHistoryEmpty(t *testing.T) {
	v := historyView()
	v.Rows = nil
	doc := render(t, pages.History(page, v))
	if !strings.Contains(text(one(t, doc, "[data-testid=history-empty]")), "No events yet") {
		t.Error("an empty history does not say so")
	}
	if doc.Find("[data-testid=history-event]").Length() != 0 {
		t.Error("an empty history lists events")
	}
}

func TestEveryEventKindHasWords(t *testing.T) {
	seen := map[string]string{}
	for _, k := range models.EventKinds {
		l := pages.EventLabel(k)
		if l == "" || strings.Contains(l, "_") || l == k {
			t.Errorf("event kind %q reads %q", k, l)
		}
		if other, dup := seen[l]; dup {
			t.Errorf("kinds %q and %q both read %q", k, other, l)
		}
		seen[l] = k
	}
	if got := pages.EventLabel("token_exchanged"); got != "Token exchanged" {
		t.Errorf("an unknown kind reads %q", got)
	}
}
