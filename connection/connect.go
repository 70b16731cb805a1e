package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/markbates/goth"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// Key names an asset within its connection: its kind and external id.
func Key(kind providers.AssetKind, externalID string) string { return string(kind) + ":" + externalID }

// Authorize finishes the provider side of a flow whose callback was claimed: for providers
// without refresh tokens (Meta) the short-lived token is exchanged for a long-lived one,
// the token is inspected (validity, both expiry clocks, granted scopes) and every asset it
// reaches is discovered. The grant waits in the flow, encrypted, for the picker. On error
// nothing is kept.
func (s *Service) Authorize(ctx context.Context, t Tenant, flow models.OAuthFlow, gu goth.User) error {
	p, err := s.provider(flow.Provider)
	if err != nil {
		return err
	}
	done, err := s.slot(ctx)
	if err != nil {
		return err
	}
	defer done()
	tok := providers.Token{AccessToken: gu.AccessToken, RefreshToken: gu.RefreshToken, Expiry: gu.ExpiresAt}
	if !p.Goth().RefreshTokenAvailable() {
		if tok, err = p.RenewToken(ctx, tok); err != nil {
			return err
		}
	}
	info, err := p.InspectToken(ctx, tok)
	if err != nil {
		return err
	}
	if !info.Valid {
		return info.Problem
	}
	if !info.ExpiresAt.IsZero() {
		tok.Expiry = info.ExpiresAt
	}
	if !info.DataAccessExpiresAt.IsZero() {
		tok.DataAccessExpiry = info.DataAccessExpiresAt
	}
	if len(info.Scopes) > 0 {
		tok.Scopes = info.Scopes
	}
	// goth.User has no field for it: Relink's LinkedIn provider puts it in RawData.
	if at, ok := gu.RawData["refresh_token_expires_at"].(string); ok && tok.RefreshToken != "" {
		if t, err := time.Parse(time.RFC3339, at); err == nil {
			tok.RefreshExpiry = t
		}
	}
	assets, err := p.DiscoverAssets(ctx, tok)
	if err != nil {
		return err
	}
	sealed, err := s.sealFlowToken(flow.ID, tok)
	if err != nil {
		return err
	}
	list, err := json.Marshal(assets)
	if err != nil {
		return fmt.Errorf("connection: keep discovered assets: %w", err)
	}
	return s.store.AuthorizeFlow(ctx, flow.ID, gu.UserID, gu.Name, sealed, string(list), s.pickerTTL)
}

// Choice is one asset offered in the picker.
type Choice struct {
	Key   string
	Asset providers.Asset
	// Selected is whether the box starts ticked.
	Selected bool
	// New is set on reauthentication for an asset the connection did not reach before.
	New bool
	// Unreachable is set for an asset the connection had but the provider no longer returns.
	Unreachable bool
	// Elsewhere names the other sub-accounts of the agency where it is connected, those the
	// viewer can reach.
	Elsewhere []string
}

// Picker is what the asset picker shows.
type Picker struct {
	FlowID       int64
	ConnectionID int64
	Provider     string
	Intent       models.FlowIntent
	UserID       string
	UserName     string
	Choices      []Choice
	// Replacing is set when reauthenticating as another provider user than the
	// connection's: it is the connection that would change hands, and Kept, Gained and
	// Lost say what would change.
	Replacing *models.Connection
	Kept      []providers.Asset
	Gained    []providers.Asset
	Lost      []models.Asset
}

// Pending returns the picker of a flow waiting for the user's choice. The flow belongs to
// userID and t's sub-account; anyone else's is models.ErrNotFound.
func (s *Service) Pending(ctx context.Context, t Tenant, userID, flowID int64) (Picker, error) {
	f, err := s.store.AuthorizedFlow(ctx, userID, t.SubAccountID, flowID)
	if err != nil {
		return Picker{}, err
	}
	var discovered []providers.Asset
	if err := json.Unmarshal([]byte(f.Assets), &discovered); err != nil {
		return Picker{}, fmt.Errorf("connection: read discovered assets of flow %d: %w", f.ID, err)
	}
	pk := Picker{FlowID: f.ID, Provider: f.Provider, Intent: f.Intent, UserID: f.ExternalUserID, UserName: f.ExternalUserName}
	var conn models.Connection
	switch {
	case f.Intent == models.IntentReauthenticate && f.ConnectionID != nil:
		conn, err = s.store.Connection(ctx, t.SubAccountID, *f.ConnectionID)
	default:
		conn, err = s.store.ConnectionOf(ctx, t.SubAccountID, f.Provider, f.ExternalUserID)
	}
	var existing []models.Asset
	switch {
	case err == nil:
		pk.ConnectionID = conn.ID
		if existing, err = s.store.AssetsOfConnection(ctx, t.SubAccountID, conn.ID); err != nil {
			return Picker{}, err
		}
	case !errors.Is(err, models.ErrNotFound):
		return Picker{}, err
	}
	if conn.ID != 0 && conn.ExternalUserID != f.ExternalUserID {
		c := conn
		// The picker is shown to a person: not even the ciphertext goes with it.
		c.AccessToken, c.RefreshToken = nil, nil
		pk.Replacing = &c
	}
	byKey := map[string]models.Asset{}
	for _, a := range existing {
		byKey[Key(a.Kind, a.ExternalID)] = a
	}
	ids := make([]string, 0, len(discovered))
	seen := map[string]bool{}
	for _, a := range discovered {
		k := Key(a.Kind, a.ExternalID)
		if seen[k] {
			continue
		}
		seen[k] = true
		ids = append(ids, a.ExternalID)
		old, had := byKey[k]
		c := Choice{Key: k, Asset: a, Selected: !had || old.Selected, New: conn.ID != 0 && !had}
		pk.Choices = append(pk.Choices, c)
		if had && old.Selected {
			pk.Kept = append(pk.Kept, a)
		} else {
			pk.Gained = append(pk.Gained, a)
		}
	}
	for _, a := range existing {
		if !seen[Key(a.Kind, a.ExternalID)] && a.Selected {
			pk.Lost = append(pk.Lost, a)
		}
	}
	if err := s.markElsewhere(ctx, t, ids, pk.Choices); err != nil {
		return Picker{}, err
	}
	sortChoices(pk.Choices)
	return pk, nil
}

// Choices returns the picker of an existing connection ("Choose assets"): what it reached
// when last discovered or refreshed, with what is chosen now.
func (s *Service) Choices(ctx context.Context, t Tenant, connectionID int64) (Picker, error) {
	conn, err := s.store.Connection(ctx, t.SubAccountID, connectionID)
	if err != nil {
		return Picker{}, err
	}
	assets, err := s.store.AssetsOfConnection(ctx, t.SubAccountID, conn.ID)
	if err != nil {
		return Picker{}, err
	}
	pk := Picker{ConnectionID: conn.ID, Provider: conn.Provider, UserID: conn.ExternalUserID, UserName: conn.ExternalUserName}
	ids := make([]string, len(assets))
	for i, a := range assets {
		ids[i] = a.ExternalID
		pk.Choices = append(pk.Choices, Choice{Key: Key(a.Kind, a.ExternalID), Asset: providerAsset(a),
			Selected: a.Selected, Unreachable: a.MissingSince != nil})
	}
	if err := s.markElsewhere(ctx, t, ids, pk.Choices); err != nil {
		return Picker{}, err
	}
	sortChoices(pk.Choices)
	return pk, nil
}

// markElsewhere names, on each choice, the other sub-accounts of the agency (those t's
// viewer can reach) where the same asset is connected; ids are the choices' external ids.
func (s *Service) markElsewhere(ctx context.Context, t Tenant, ids []string, cs []Choice) error {
	elsewhere, err := s.store.ConnectedElsewhere(ctx, t.AgencyID, t.SubAccountID, ids)
	if err != nil {
		return err
	}
	for i := range cs {
		cs[i].Elsewhere = t.visible(elsewhere[cs[i].Asset.ExternalID])
	}
	return nil
}

func sortChoices(cs []Choice) {
	order := map[providers.AssetKind]int{}
	for i, k := range providers.AssetKinds() {
		order[k] = i
	}
	slices.SortStableFunc(cs, func(a, b Choice) int {
		if d := order[a.Asset.Kind] - order[b.Asset.Kind]; d != 0 {
			return d
		}
		return strings.Compare(strings.ToLower(a.Asset.Name), strings.ToLower(b.Asset.Name))
	})
}

// Connect saves the flow's grant with the chosen assets (keys from Choice.Key), in one
// transaction: the connection (a new one, or the one of the same provider user, or on
// reauthentication the one being reauthenticated) with its tokens sealed, every discovered
// asset (chosen or not, so they can be chosen later), assets no longer returned flagged,
// and the history: connected or reauthenticated, then one event per asset added, removed
// or lost. The flow is spent: a second submit gets models.ErrFlowUsed.
func (s *Service) Connect(ctx context.Context, t Tenant, userID, flowID int64, chosen []string) (models.Connection, error) {
	f, err := s.store.AuthorizedFlow(ctx, userID, t.SubAccountID, flowID)
	if err != nil {
		return models.Connection{}, err
	}
	tok, err := s.openFlowToken(f)
	if err != nil {
		return models.Connection{}, err
	}
	var discovered []providers.Asset
	if err := json.Unmarshal([]byte(f.Assets), &discovered); err != nil {
		return models.Connection{}, fmt.Errorf("connection: read discovered assets of flow %d: %w", f.ID, err)
	}
	var (
		conn   models.Connection
		queued int
	)
	err = s.store.Tx(ctx, func(tx *models.Store) error {
		if err := tx.FinishFlow(ctx, userID, f.ID); err != nil {
			return err
		}
		now := s.now()
		var (
			old     models.Connection
			err     error
			kind    = models.EventConnected
			oldUser string
		)
		if f.Intent == models.IntentReauthenticate && f.ConnectionID != nil {
			kind = models.EventReauthenticated
			if old, err = tx.Connection(ctx, t.SubAccountID, *f.ConnectionID); err != nil {
				return err
			}
			if old.ExternalUserID != f.ExternalUserID {
				oldUser = old.ExternalUserName + " (" + old.ExternalUserID + ")"
				other, err := tx.ConnectionOf(ctx, t.SubAccountID, f.Provider, f.ExternalUserID)
				if err == nil && other.ID != old.ID {
					return ErrAlreadyConnected
				}
			}
		} else if old, err = tx.ConnectionOf(ctx, t.SubAccountID, f.Provider, f.ExternalUserID); err == nil {
			if old.Status != models.StatusDisconnected {
				kind = models.EventReauthenticated
			}
		} else if !errors.Is(err, models.ErrNotFound) {
			return err
		}
		conn = old
		if conn.ID == 0 {
			by := userID
			conn = models.Connection{Provider: f.Provider, ExternalUserID: f.ExternalUserID, ConnectedByUserID: &by, ConnectedAt: &now}
			if conn, err = tx.CreateConnection(ctx, t.SubAccountID, conn); err != nil {
				return err
			}
		} else if old.Status == models.StatusDisconnected {
			// Connecting again after a disconnect: a new grant, by this user.
			by := userID
			conn.ConnectedByUserID, conn.ConnectedAt = &by, &now
		}
		conn.ExternalUserID, conn.ExternalUserName = f.ExternalUserID, f.ExternalUserName
		if err := s.sealToken(&conn, tok); err != nil {
			return err
		}
		newStatus, reason, detail := models.StatusHealthy, providers.Reason(""), ""
		if sc := missingScope(f.Provider, tok.Scopes); sc != "" {
			newStatus, reason, detail = models.StatusPermissionsMissing, providers.ReasonMissingPermission, sc
		}
		oldStatus := old.Status
		was := beforeOf(old)
		conn.Status, conn.Reason, conn.ReasonDetail = newStatus, reason, detail
		conn.LastErrorCode, conn.LastErrorSubcode, conn.LastErrorMessage = 0, 0, ""
		conn.ConsecutiveFailures = 0
		conn.LastCheckedAt, conn.DisconnectedAt = &now, nil
		conn.UnreachableSince, conn.IncidentID = nil, nil
		conn.NextCheckAt = s.nextHealthyCheck(conn, now)
		if oldStatus != newStatus {
			conn.StatusChangedAt = &now
		}
		if err := tx.UpdateConnection(ctx, t.SubAccountID, conn); err != nil {
			return err
		}
		if err := record(ctx, tx, t, kind, &conn, nil, func(e *models.ConnectionEvent) {
			e.OldStatus, e.NewStatus, e.Reason = oldStatus, newStatus, reason
			e.Detail = fmt.Sprintf("%s user %s (%s)", ProviderLabel(f.Provider), f.ExternalUserName, f.ExternalUserID)
			if oldUser != "" {
				e.Detail += ", replacing " + oldUser
			}
			if detail != "" {
				e.Detail += "; permission not granted: " + detail
			}
		}); err != nil {
			return err
		}
		if queued, err = s.afterChange(ctx, tx, t, conn, was, now); err != nil {
			return err
		}
		return s.syncDiscovered(ctx, tx, t, conn, discovered, chosen)
	})
	if err != nil {
		return models.Connection{}, err
	}
	s.kick(ctx, queued)
	return conn, nil
}

// ChooseAssets changes which of a connection's assets are connected to the sub-account,
// with one event per asset added or removed.
func (s *Service) ChooseAssets(ctx context.Context, t Tenant, connectionID int64, chosen []string) error {
	return s.store.Tx(ctx, func(tx *models.Store) error {
		conn, err := tx.Connection(ctx, t.SubAccountID, connectionID)
		if err != nil {
			return err
		}
		if conn.Status == models.StatusDisconnected {
			return ErrDisconnected
		}
		return s.choose(ctx, tx, t, conn, chosen)
	})
}

// syncDiscovered brings a connection's assets in line with what the provider returned:
// their data updated, new ones stored, those no longer returned flagged (kept, never
// deleted). chosen are the keys connected here; nil keeps each asset's current choice and
// leaves new ones unchosen.
func (s *Service) syncDiscovered(ctx context.Context, tx *models.Store, t Tenant, conn models.Connection, discovered []providers.Asset, chosen []string) error {
	existing, err := tx.AssetsOfConnection(ctx, t.SubAccountID, conn.ID)
	if err != nil {
		return err
	}
	now := s.now()
	want := keySet(chosen)
	byKey := map[string]*models.Asset{}
	for i := range existing {
		byKey[Key(existing[i].Kind, existing[i].ExternalID)] = &existing[i]
	}
	seen := map[string]bool{}
	for _, d := range discovered {
		k := Key(d.Kind, d.ExternalID)
		if seen[k] || !d.Kind.Valid() {
			continue
		}
		seen[k] = true
		a, had := byKey[k]
		if !had {
			a = &models.Asset{ConnectionID: conn.ID, Kind: d.Kind, ExternalID: d.ExternalID}
		}
		wasSelected, wasMissing := a.Selected, a.MissingSince != nil
		applyData(a, d, now)
		a.MissingSince = nil
		if chosen != nil {
			a.Selected = want[k]
		}
		if err := tx.SaveAsset(ctx, t.SubAccountID, a); err != nil {
			return err
		}
		if err := assetEvents(ctx, tx, t, conn, a, wasSelected, wasMissing); err != nil {
			return err
		}
	}
	for _, a := range existing {
		if seen[Key(a.Kind, a.ExternalID)] || a.MissingSince != nil {
			continue
		}
		a.MissingSince = &now
		if err := tx.SaveAsset(ctx, t.SubAccountID, &a); err != nil {
			return err
		}
		if err := record(ctx, tx, t, models.EventAssetUnreachable, &conn, &a, func(e *models.ConnectionEvent) {
			e.Detail = assetLabel(a) + " is no longer reachable through this connection"
		}); err != nil {
			return err
		}
	}
	return nil
}

// choose sets which of a connection's assets are connected here (chosen keys). An asset no
// longer reachable can be left out, not chosen again.
func (s *Service) choose(ctx context.Context, tx *models.Store, t Tenant, conn models.Connection, chosen []string) error {
	existing, err := tx.AssetsOfConnection(ctx, t.SubAccountID, conn.ID)
	if err != nil {
		return err
	}
	want := keySet(chosen)
	for _, a := range existing {
		selected := want[Key(a.Kind, a.ExternalID)]
		if a.Selected == selected || (selected && a.MissingSince != nil) {
			continue
		}
		a.Selected = selected
		if err := tx.SaveAsset(ctx, t.SubAccountID, &a); err != nil {
			return err
		}
		if err := assetEvents(ctx, tx, t, conn, &a, !selected, false); err != nil {
			return err
		}
	}
	return nil
}

func keySet(keys []string) map[string]bool {
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	return set
}

// assetEvents records what changed for one asset: added, removed, or reachable again.
func assetEvents(ctx context.Context, tx *models.Store, t Tenant, conn models.Connection, a *models.Asset, wasSelected, wasMissing bool) error {
	if wasMissing && a.MissingSince == nil {
		if err := record(ctx, tx, t, models.EventAssetRecovered, &conn, a, func(e *models.ConnectionEvent) {
			e.Detail = assetLabel(*a) + " is reachable again"
		}); err != nil {
			return err
		}
	}
	switch {
	case a.Selected && !wasSelected:
		return record(ctx, tx, t, models.EventAssetAdded, &conn, a, func(e *models.ConnectionEvent) { e.Detail = assetLabel(*a) })
	case !a.Selected && wasSelected:
		return record(ctx, tx, t, models.EventAssetRemoved, &conn, a, func(e *models.ConnectionEvent) { e.Detail = assetLabel(*a) })
	}
	return nil
}

// applyData copies what the provider said about an asset onto the stored one.
func applyData(a *models.Asset, d providers.Asset, now time.Time) {
	a.Name = d.Name
	a.ParentExternalID = d.ParentID
	a.Currency = d.Currency
	a.AmountSpent = d.AmountSpent
	a.SpendCap = d.SpendCap
	a.AccountStatus = d.AccountStatus
	a.DisableReason = d.DisableReason
	a.UserTasks = strings.Join(d.Tasks, ",")
	a.Datasets = strings.Join(d.DatasetIDs, ",")
	// Terms of service and funding sources are Meta's notions: LinkedIn says nothing of
	// either, and "accepted" would be made up.
	if d.Kind == providers.KindAdAccount {
		tos, funding := d.TermsAccepted, d.FundingSource
		a.TosAccepted, a.FundingSourcePresent = &tos, &funding
	}
	a.LastRefreshedAt = &now
	a.LastErrorCode, a.LastErrorMessage, a.LastErrorReason = 0, "", ""
}

// providerAsset is a stored asset in the provider's terms, for the picker.
func providerAsset(a models.Asset) providers.Asset {
	d := providers.Asset{Kind: a.Kind, ExternalID: a.ExternalID, Name: a.Name, ParentID: a.ParentExternalID,
		Currency: a.Currency, AmountSpent: a.AmountSpent, SpendCap: a.SpendCap, AccountStatus: a.AccountStatus,
		DisableReason: a.DisableReason}
	if a.UserTasks != "" {
		d.Tasks = strings.Split(a.UserTasks, ",")
	}
	if a.Datasets != "" {
		d.DatasetIDs = strings.Split(a.Datasets, ",")
	}
	return d
}

func assetLabel(a models.Asset) string {
	return fmt.Sprintf("%s %q (%s)", KindLabel(a.Kind), a.Name, a.ExternalID)
}

// KindLabel is an asset kind as people read it.
func KindLabel(k providers.AssetKind) string {
	switch k {
	case providers.KindPage:
		return "Facebook Page"
	case providers.KindAdAccount:
		return "Ad account"
	case providers.KindInstagramAccount:
		return "Instagram account"
	case providers.KindDataset:
		return "Dataset (pixel)"
	case providers.KindLinkedInOrganization:
		return "LinkedIn Page"
	case providers.KindLinkedInAdAccount:
		return "LinkedIn ad account"
	}
	return string(k)
}

// ProviderLabel is a provider as people name it.
func ProviderLabel(p string) string {
	switch p {
	case "meta":
		return "Facebook"
	case "linkedin":
		return "LinkedIn"
	}
	return p
}
