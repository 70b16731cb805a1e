package connection_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/markbates/goth"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/providers/linkedin"
	"github.com/relink/relink/providers/meta"
	"github.com/relink/relink/providers/sandbox"
	"github.com/relink/relink/providers/sandbox/sandboxtest"
)

const (
	oneHour = time.Hour
	oneDay  = 24 * time.Hour
	avery   = "10000000000001" // 3 Pages, 4 ad accounts, 2 datasets
	dana    = "lnk-dana-0001"
)

// world is a sub-account with an admin, a sandbox and the service over both.
type world struct {
	t      *testing.T
	ctx    context.Context
	store  *models.Store
	sb     *sandbox.Sandbox
	ts     *httptest.Server
	svc    *connection.Service
	tenant connection.Tenant
	other  connection.Tenant // another sub-account of the same agency
	user   int64
	flows  int
	cfg    connection.Config
}

// withConfig rebuilds the service with its configuration changed by edit.
func (w *world) withConfig(edit func(*connection.Config)) *connection.Service {
	w.t.Helper()
	edit(&w.cfg)
	svc, err := connection.New(w.cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	return svc
}

func newWorld(t *testing.T) *world {
	t.Helper()
	sb, srv := sandboxtest.Start(t)
	store := storetest.Open(t, storetest.Options{Clock: sb.Clock()})
	ctx := context.Background()
	ag, err := store.CreateAgency(ctx, "Avery Agency")
	if err != nil {
		t.Fatal(err)
	}
	bakery, err := store.CreateSubAccount(ctx, ag.ID, "Bluebird Bakery")
	if err != nil {
		t.Fatal(err)
	}
	florist, err := store.CreateSubAccount(ctx, ag.ID, "Fern Florist")
	if err != nil {
		t.Fatal(err)
	}
	u, err := store.CreateUser(ctx, models.NewUser{Email: "admin@bluebird.test", Password: "correct horse battery", Role: models.RoleAgencyAdmin, AgencyID: ag.ID})
	if err != nil {
		t.Fatal(err)
	}
	cipher, err := models.NewCipher(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	urls := sb.URLs(srv.URL)
	mc := meta.New(meta.Config{AppID: sandbox.DefaultMetaAppID, AppSecret: sandbox.DefaultMetaAppSecret,
		GraphURL: urls.MetaGraph, WWWURL: urls.MetaWWW, Clock: sb.Clock(), RedirectURL: sandboxtest.RedirectURI})
	lc := linkedin.New(linkedin.Config{ClientID: sandbox.DefaultLinkedInClientID, ClientSecret: sandbox.DefaultLinkedInClientSecret,
		APIURL: urls.LinkedInAPI, WWWURL: urls.LinkedInWWW, Clock: sb.Clock(), RedirectURL: sandboxtest.RedirectURI})
	cfg := connection.Config{Store: store, Cipher: cipher, Providers: []providers.Provider{mc, lc}}
	svc, err := connection.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	viewer, err := store.LoadPrincipal(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, ctx: ctx, store: store, sb: sb, ts: srv, svc: svc, user: u.ID, cfg: cfg,
		tenant: connection.Tenant{AgencyID: ag.ID, SubAccountID: bakery.ID, Actor: connection.UserActor(u.ID), Viewer: &viewer},
		other:  connection.Tenant{AgencyID: ag.ID, SubAccountID: florist.ID, Actor: connection.UserActor(u.ID), Viewer: &viewer}}
}

// authorize runs a flow up to the picker for the provider user and returns its id.
func (w *world) authorize(tn connection.Tenant, provider, user string, intent models.FlowIntent, connID int64) int64 {
	w.t.Helper()
	gu := goth.User{UserID: user}
	switch provider {
	case "meta":
		gu.AccessToken = sandboxtest.MetaLogin(w.t, w.ts, user)
	case "linkedin":
		gu.AccessToken, gu.RefreshToken = sandboxtest.LinkedInLogin(w.t, w.ts, user)
	}
	f := models.OAuthFlow{UserID: w.user, SubAccountID: tn.SubAccountID, Provider: provider, Intent: intent, ExpiresAt: w.store.Now().Add(oneHour)}
	if connID != 0 {
		f.ConnectionID = &connID
	}
	w.flows++
	state := fmt.Sprintf("state-%d", w.flows)
	if _, err := w.store.CreateFlow(w.ctx, state, f); err != nil {
		w.t.Fatal(err)
	}
	claimed, err := w.store.ClaimFlow(w.ctx, state, w.user)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.svc.Authorize(w.ctx, tn, claimed, gu); err != nil {
		w.t.Fatalf("authorize: %v", err)
	}
	return claimed.ID
}

// connectAll connects every discovered asset of the provider user to tenant tn.
func (w *world) connectAll(tn connection.Tenant, provider, user string) models.Connection {
	w.t.Helper()
	flow := w.authorize(tn, provider, user, models.IntentConnect, 0)
	pk, err := w.svc.Pending(w.ctx, tn, w.user, flow)
	if err != nil {
		w.t.Fatal(err)
	}
	var keys []string
	for _, c := range pk.Choices {
		keys = append(keys, c.Key)
	}
	conn, err := w.svc.Connect(w.ctx, tn, w.user, flow, keys)
	if err != nil {
		w.t.Fatalf("connect: %v", err)
	}
	return conn
}

func (w *world) events(kind string) []models.HistoryRow {
	w.t.Helper()
	rows, _, err := w.store.History(w.ctx, w.tenant.SubAccountID, models.HistoryQuery{Kind: kind, Limit: 200})
	if err != nil {
		w.t.Fatal(err)
	}
	return rows
}

func (w *world) assetByExternal(connID int64, id string) models.Asset {
	w.t.Helper()
	as, err := w.store.AssetsOfConnection(w.ctx, w.tenant.SubAccountID, connID)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, a := range as {
		if a.ExternalID == id {
			return a
		}
	}
	w.t.Fatalf("no asset %s", id)
	return models.Asset{}
}

func TestConnectSavesConnectionAssetsAndHistory(t *testing.T) {
	w := newWorld(t)
	conn := w.connectAll(w.tenant, "meta", avery)
	if conn.Status != models.StatusHealthy || conn.ExternalUserID != avery {
		t.Fatalf("connection = %+v", conn)
	}
	if conn.TokenExpiresAt == nil || conn.TokenExpiresAt.Sub(w.store.Now()) < 50*oneDay {
		t.Errorf("token expiry %v: the short-lived token was not exchanged for a long-lived one", conn.TokenExpiresAt)
	}
	if conn.DataAccessExpiresAt == nil {
		t.Error("data access expiry not kept")
	}
	stored, err := w.store.Connection(w.ctx, w.tenant.SubAccountID, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.AccessToken) == 0 || strings.Contains(string(stored.AccessToken), "EAA") {
		t.Errorf("access token not encrypted at rest")
	}
	assets, err := w.store.AssetsOf(w.ctx, w.tenant.SubAccountID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[providers.AssetKind]int{}
	for _, a := range assets {
		kinds[a.Kind]++
	}
	if kinds[providers.KindPage] != 3 || kinds[providers.KindAdAccount] != 4 {
		t.Errorf("assets by kind = %v, want 3 pages and 4 ad accounts", kinds)
	}
	if n := len(w.events(models.EventConnected)); n != 1 {
		t.Errorf("%d connected events, want 1", n)
	}
	if n := len(w.events(models.EventAssetAdded)); n != len(assets) {
		t.Errorf("%d asset_added events for %d assets", n, len(assets))
	}

	// The same provider user again: the connection is updated, not duplicated.
	again := w.connectAll(w.tenant, "meta", avery)
	if again.ID != conn.ID {
		t.Errorf("second connect made connection %d, want %d updated", again.ID, conn.ID)
	}
	rows, err := w.store.ConnectionsOf(w.ctx, w.tenant.SubAccountID)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d connections (err %v), want 1", len(rows), err)
	}
}

func TestPickerMarksAssetsConnectedElsewhere(t *testing.T) {
	w := newWorld(t)
	w.connectAll(w.other, "meta", avery)
	flow := w.authorize(w.tenant, "meta", avery, models.IntentConnect, 0)
	pk, err := w.svc.Pending(w.ctx, w.tenant, w.user, flow)
	if err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, c := range pk.Choices {
		if !c.Selected {
			t.Errorf("%s not preselected", c.Key)
		}
		if len(c.Elsewhere) == 1 && c.Elsewhere[0] == "Fern Florist" {
			marked++
		}
	}
	if marked != len(pk.Choices) || marked == 0 {
		t.Errorf("%d of %d choices marked as connected to Fern Florist", marked, len(pk.Choices))
	}
	// Someone else's flow is not found.
	if _, err := w.svc.Pending(w.ctx, w.tenant, w.user+1000, flow); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another user's flow: %v, want ErrNotFound", err)
	}
	if _, err := w.svc.Pending(w.ctx, w.other, w.user, flow); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("the flow from another sub-account: %v, want ErrNotFound", err)
	}
}

func TestConnectIsSingleUse(t *testing.T) {
	w := newWorld(t)
	flow := w.authorize(w.tenant, "meta", avery, models.IntentConnect, 0)
	pk, err := w.svc.Pending(w.ctx, w.tenant, w.user, flow)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{pk.Choices[0].Key}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.svc.Connect(w.ctx, w.tenant, w.user, flow, keys)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, models.ErrFlowUsed):
			t.Errorf("second submit: %v, want ErrFlowUsed", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d submits succeeded, want exactly 1", ok)
	}
	if n := len(w.events(models.EventConnected)); n != 1 {
		t.Errorf("%d connected events, want 1", n)
	}
}

func TestRefreshOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		fault      sandbox.FaultRequest
		wantStatus models.Status
		wantReason providers.Reason
		// assetOnly: only the row is flagged, the connection keeps its status.
		assetOnly bool
	}{
		{name: "password changed needs reauthentication", fault: sandbox.FaultRequest{Fault: "password_changed"},
			wantStatus: models.StatusReauthRequired, wantReason: providers.ReasonPasswordChanged},
		{name: "unticked permission", fault: sandbox.FaultRequest{Fault: "missing_permission", Scope: "ads_read"},
			wantStatus: models.StatusPermissionsMissing, wantReason: providers.ReasonMissingPermission},
		{name: "provider down is degraded, never expired", fault: sandbox.FaultRequest{Fault: "provider_unavailable"},
			wantStatus: models.StatusDegraded, wantReason: providers.ReasonProviderUnavailable},
		{name: "rate limited is degraded", fault: sandbox.FaultRequest{Fault: "rate_limited"},
			wantStatus: models.StatusDegraded, wantReason: providers.ReasonRateLimited},
		{name: "lost role flags the asset alone", fault: sandbox.FaultRequest{Fault: "lost_asset_role", Asset: "act_200000000000001"},
			wantStatus: models.StatusHealthy, wantReason: providers.ReasonLostAssetRole, assetOnly: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			conn := w.connectAll(w.tenant, "meta", avery)
			asset := w.assetByExternal(conn.ID, "act_200000000000001")
			stored, _ := w.store.Connection(w.ctx, w.tenant.SubAccountID, conn.ID)

			res, err := w.svc.RefreshAsset(w.ctx, w.tenant, asset.ID)
			if err != nil || res.Problem != nil {
				t.Fatalf("healthy refresh: %v %v", err, res.Problem)
			}
			tt.fault.Provider, tt.fault.User = "meta", avery
			if err := w.sb.Inject(tt.fault); err != nil {
				t.Fatal(err)
			}
			res, err = w.svc.RefreshAsset(w.ctx, w.tenant, asset.ID)
			if err != nil {
				t.Fatal(err)
			}
			if res.Problem == nil || res.Problem.Reason != tt.wantReason {
				t.Fatalf("problem = %v, want %s", res.Problem, tt.wantReason)
			}
			if res.Connection.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", res.Connection.Status, tt.wantStatus)
			}
			after, _ := w.store.Connection(w.ctx, w.tenant.SubAccountID, conn.ID)
			if string(after.AccessToken) != string(stored.AccessToken) {
				t.Error("the token changed on a failed refresh")
			}
			if tt.assetOnly {
				if res.Asset.LastErrorReason != tt.wantReason {
					t.Errorf("asset reason = %q, want %q", res.Asset.LastErrorReason, tt.wantReason)
				}
				if n := len(w.events(models.EventAssetProblem)); n != 1 {
					t.Errorf("%d asset_problem events, want 1", n)
				}
				return
			}
			if after.Reason != tt.wantReason {
				t.Errorf("stored reason = %q, want %q", after.Reason, tt.wantReason)
			}
			if tt.wantReason == providers.ReasonMissingPermission && after.ReasonDetail != "ads_read" {
				t.Errorf("missing permission named %q, want ads_read", after.ReasonDetail)
			}
			failed := w.events(models.EventRefreshFailed)
			if len(failed) != 1 || failed[0].NewStatus != tt.wantStatus || failed[0].OldStatus != models.StatusHealthy {
				t.Errorf("refresh_failed events = %+v", failed)
			}
		})
	}
}

func TestRefreshSavesNewSpend(t *testing.T) {
	w := newWorld(t)
	conn := w.connectAll(w.tenant, "meta", avery)
	asset := w.assetByExternal(conn.ID, "act_200000000000001")
	before := asset.AmountSpent
	w.sb.Clock().Advance(3 * oneDay) // the sandbox's ad accounts spend as time passes
	res, err := w.svc.RefreshAsset(w.ctx, w.tenant, asset.ID)
	if err != nil || res.Problem != nil {
		t.Fatalf("refresh: %v %v", err, res.Problem)
	}
	if res.Asset.LastRefreshedAt == nil || !res.Asset.LastRefreshedAt.After(*asset.LastRefreshedAt) {
		t.Errorf("last refreshed not moved: %v -> %v", asset.LastRefreshedAt, res.Asset.LastRefreshedAt)
	}
	if res.Asset.AmountSpent == before {
		t.Errorf("amount spent still %s after three days of spending", before)
	}
	if n := len(w.events(models.EventRefreshOK)); n != 1 {
		t.Errorf("%d refresh_ok events, want 1", n)
	}
}

func TestRefreshLeaseKeepsTwoRefreshesApart(t *testing.T) {
	w := newWorld(t)
	conn := w.connectAll(w.tenant, "meta", avery)
	asset := w.assetByExternal(conn.ID, "act_200000000000001")
	if err := w.store.LeaseAsset(w.ctx, w.tenant.SubAccountID, asset.ID, "another replica", oneHour); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.RefreshAsset(w.ctx, w.tenant, asset.ID); !errors.Is(err, connection.ErrBusy) {
		t.Fatalf("refresh during another's lease: %v, want ErrBusy", err)
	}
	w.sb.ResetCalls()
	if err := w.store.ReleaseAsset(w.ctx, w.tenant.SubAccountID, asset.ID, "another replica"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.RefreshAsset(w.ctx, w.tenant, asset.ID); err != nil {
		t.Fatalf("refresh after release: %v", err)
	}
	// The lease is given back: a second refresh runs too.
	if _, err := w.svc.RefreshAsset(w.ctx, w.tenant, asset.ID); err != nil {
		t.Fatalf("second refresh: %v", err)
	}
}

func TestRefreshAllUsesOneListPerKind(t *testing.T) {
	w := newWorld(t)
	conn := w.connectAll(w.tenant, "meta", avery)
	w.sb.ResetCalls()
	res, err := w.svc.RefreshAll(w.ctx, w.tenant, conn.ID)
	if err != nil || res.Problem != nil {
		t.Fatalf("refresh all: %v %v", err, res.Problem)
	}
	total := 0
	for _, c := range w.sb.Calls() {
		total += c.Count
	}
	// debug_token, /me/accounts, /me/adaccounts: one call each, however many assets.
	if total > 3 {
		t.Errorf("refresh all made %d provider calls for %d assets: %+v", total, res.Refreshed, w.sb.Calls())
	}
}

func TestReauthenticateAsAnotherUserListsWhatChanges(t *testing.T) {
	w := newWorld(t)
	conn := w.connectAll(w.tenant, "meta", avery)
	flow := w.authorize(w.tenant, "meta", "10000000000003", models.IntentReauthenticate, conn.ID)
	pk, err := w.svc.Pending(w.ctx, w.tenant, w.user, flow)
	if err != nil {
		t.Fatal(err)
	}
	if pk.Replacing == nil || pk.Replacing.ID != conn.ID {
		t.Fatalf("picker does not say it replaces connection %d", conn.ID)
	}
	if len(pk.Lost) == 0 {
		t.Errorf("nothing listed as lost when switching users")
	}
}

func TestReauthenticateSameUserRestoresHealth(t *testing.T) {
	w := newWorld(t)
	conn := w.connectAll(w.tenant, "meta", avery)
	asset := w.assetByExternal(conn.ID, "act_200000000000001")
	if err := w.sb.Inject(sandbox.FaultRequest{Provider: "meta", User: avery, Fault: "password_changed"}); err != nil {
		t.Fatal(err)
	}
	if res, err := w.svc.RefreshAsset(w.ctx, w.tenant, asset.ID); err != nil || res.Connection.Status != models.StatusReauthRequired {
		t.Fatalf("after password change: %v %v", err, res.Connection.Status)
	}
	flow := w.authorize(w.tenant, "meta", avery, models.IntentReauthenticate, conn.ID)
	pk, err := w.svc.Pending(w.ctx, w.tenant, w.user, flow)
	if err != nil {
		t.Fatal(err)
	}
	if pk.Replacing != nil {
		t.Error("same user shown as a replacement")
	}
	var keys []string
	for _, c := range pk.Choices {
		if c.Selected {
			keys = append(keys, c.Key)
		}
	}
	got, err := w.svc.Connect(w.ctx, w.tenant, w.user, flow, keys)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != conn.ID || got.Status != models.StatusHealthy || got.Reason != "" {
		t.Errorf("after reauthentication: id %d status %s reason %q", got.ID, got.Status, got.Reason)
	}
	if n := len(w.events(models.EventReauthenticated)); n != 1 {
		t.Errorf("%d reauthenticated events, want 1", n)
	}
	if res, err := w.svc.RefreshAsset(w.ctx, w.tenant, asset.ID); err != nil || res.Problem != nil {
		t.Errorf("refresh after reauthentication: %v %v", err, res.Problem)
	}
}

func TestDisconnectWipesTokensAndKeepsHistory(t *testing.T) {
	tests := []struct {
		name        string
		down        bool
		wantRevoked bool
	}{
		{name: "provider confirms", wantRevoked: true},
		{name: "provider down: disconnect anyway", down: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			conn := w.connectAll(w.tenant, "meta", avery)
			if tt.down {
				if err := w.sb.Inject(sandbox.FaultRequest{Provider: "meta", User: avery, Fault: "provider_unavailable"}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := w.svc.Disconnect(w.ctx, w.tenant, conn.ID)
			if err != nil {
				t.Fatal(err)
			}
			if res.Revoked != tt.wantRevoked {
				t.Errorf("revoked = %v, want %v", res.Revoked, tt.wantRevoked)
			}
			stored, _ := w.store.Connection(w.ctx, w.tenant.SubAccountID, conn.ID)
			if stored.Status != models.StatusDisconnected || len(stored.AccessToken) != 0 {
				t.Errorf("after disconnect: status %s, %d bytes of token", stored.Status, len(stored.AccessToken))
			}
			assets, _ := w.store.AssetsOf(w.ctx, w.tenant.SubAccountID)
			if len(assets) == 0 {
				t.Error("assets deleted on disconnect")
			}
			if n := len(w.events(models.EventDisconnected)); n != 1 {
				t.Errorf("%d disconnected events", n)
			}
			if _, err := w.svc.RefreshAsset(w.ctx, w.tenant, assets[0].ID); !errors.Is(err, connection.ErrDisconnected) {
				t.Errorf("refresh of a disconnected asset: %v", err)
			}
		})
	}
}

func TestLinkedInConnect(t *testing.T) {
	w := newWorld(t)
	conn := w.connectAll(w.tenant, "linkedin", dana)
	if conn.Status != models.StatusHealthy {
		t.Fatalf("status %s reason %s %s", conn.Status, conn.Reason, conn.ReasonDetail)
	}
	stored, _ := w.store.Connection(w.ctx, w.tenant.SubAccountID, conn.ID)
	if len(stored.RefreshToken) == 0 {
		t.Error("LinkedIn refresh token not kept")
	}
	assets, _ := w.store.AssetsOf(w.ctx, w.tenant.SubAccountID)
	if len(assets) == 0 {
		t.Error("no LinkedIn assets")
	}
}

func TestTenantScoping(t *testing.T) {
	w := newWorld(t)
	conn := w.connectAll(w.tenant, "meta", avery)
	asset := w.assetByExternal(conn.ID, "act_200000000000001")
	if _, err := w.svc.RefreshAsset(w.ctx, w.other, asset.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("refresh from another sub-account: %v", err)
	}
	if _, err := w.svc.RefreshAll(w.ctx, w.other, conn.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("refresh all from another sub-account: %v", err)
	}
	if _, err := w.svc.Disconnect(w.ctx, w.other, conn.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("disconnect from another sub-account: %v", err)
	}
	if err := w.svc.ChooseAssets(w.ctx, w.other, conn.ID, nil); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("choose assets from another sub-account: %v", err)
	}
}
