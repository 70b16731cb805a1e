package providers

import (
	"log/slog"
	"time"
)

// AssetKind is the kind of thing a connection reaches.
type AssetKind string

// The asset kinds a connection reaches.
const (
	KindPage                 AssetKind = "page"
	KindAdAccount            AssetKind = "ad_account"
	KindInstagramAccount     AssetKind = "instagram_account"
	KindDataset              AssetKind = "dataset"
	KindLinkedInOrganization AssetKind = "linkedin_organization"
	KindLinkedInAdAccount    AssetKind = "linkedin_ad_account"
)

// AssetKinds returns every asset kind.
func AssetKinds() []AssetKind {
	return []AssetKind{KindPage, KindAdAccount, KindInstagramAccount, KindDataset,
		KindLinkedInOrganization, KindLinkedInAdAccount}
}

// Valid reports whether k is a known asset kind.
func (k AssetKind) Valid() bool {
	for _, v := range AssetKinds() {
		if v == k {
			return true
		}
	}
	return false
}

// Asset is one page, ad account, Instagram account, dataset or LinkedIn organization
// or ad account, with the data the refresh icon fetches. Money amounts are strings
// in the account currency's minor unit, as Graph returns them.
type Asset struct {
	Kind       AssetKind
	ExternalID string
	Name       string
	// ParentID is the external id of the asset this one hangs from: the Page of an
	// Instagram account, the ad account of a dataset.
	ParentID string

	Currency     string
	AmountSpent  string
	SpendCap     string
	Balance      string
	TimezoneName string
	// AccountStatus is an ad account's standing (Graph's numbers; LinkedIn's names
	// mapped onto them); zero for kinds that have none.
	AccountStatus AccountStatus
	DisableReason DisableReason
	BusinessID    string
	BusinessName  string
	// Tasks are the connecting user's tasks or role on the asset.
	Tasks []string
	// TermsAccepted reports whether the asset's terms of service are accepted.
	TermsAccepted bool
	// FundingSource reports whether a payment method is attached.
	FundingSource bool
	// DatasetIDs are the ids of the datasets (pixels) of an ad account.
	DatasetIDs []string
	// LastFired is when a dataset last received an event.
	LastFired time.Time
	// Username is an Instagram or LinkedIn vanity name.
	Username string
}

// Token is a credential of one provider user. Printing it never shows the secrets.
type Token struct {
	AccessToken  string
	RefreshToken string
	// Expiry is when the access token stops working; zero means it does not expire.
	Expiry time.Time
	// RefreshExpiry is when the refresh token stops working (LinkedIn: 365 days).
	RefreshExpiry time.Time
	// DataAccessExpiry is Meta's second clock (90 days after the user's last login).
	DataAccessExpiry time.Time
	Scopes           []string
}

// String describes the token without its secrets.
func (t Token) String() string {
	return "providers.Token{expiry: " + t.Expiry.Format(time.RFC3339) + ", access: REDACTED}"
}

// GoString keeps %#v from printing the secrets.
func (t Token) GoString() string { return t.String() }

// LogValue keeps slog from printing the secrets.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Time("expiry", t.Expiry),
		slog.Time("refresh_expiry", t.RefreshExpiry),
		slog.Time("data_access_expiry", t.DataAccessExpiry),
		slog.Any("scopes", t.Scopes),
	)
}

// TokenInfo is what the provider says about a token when inspected.
type TokenInfo struct {
	Valid  bool
	UserID string
	AppID  string
	// Type is "USER", "PAGE" or "APP" for Meta, "USER" for LinkedIn.
	Type string
	// ExpiresAt is zero when the token does not expire.
	ExpiresAt           time.Time
	DataAccessExpiresAt time.Time
	IssuedAt            time.Time
	Scopes              []string
	// Targets maps a permission to the ids of the objects (Pages, ad accounts,
	// businesses) it was granted on, as Meta's granular_scopes lists them: it says
	// which assets the token still reaches without calling each one. A permission
	// absent from the map is not limited to listed objects; an empty list means it
	// reaches none any more. Nil when the provider does not say (LinkedIn, or a
	// debug_token answer without granular_scopes).
	Targets map[string][]string
	// Problem is the classified reason the token is invalid, nil when valid.
	Problem *Error
}

// HasScope reports whether scope was granted.
func (ti TokenInfo) HasScope(scope string) bool {
	for _, s := range ti.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// User is the provider user behind a token.
type User struct {
	ID    string
	Name  string
	Email string
}
