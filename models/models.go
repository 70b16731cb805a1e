// Package models holds Relink's domain types and the store that reads and writes them.
// Every method on tenant data takes the tenant (a Principal, sub-account or agency id)
// and puts it in the WHERE clause.
package models

import (
	"time"

	"github.com/relink/relink/providers"
)

// Role is what a user may do in an agency, a sub-account, or across the platform.
type Role string

// Roles. Agency roles reach every sub-account of their agency; support reads every agency.
const (
	RoleAgencyOwner  Role = "agency_owner"
	RoleAgencyAdmin  Role = "agency_admin"
	RoleAgencyUser   Role = "agency_user"
	RoleAccountAdmin Role = "account_admin"
	RoleAccountUser  Role = "account_user"
	RoleSupport      Role = "support"
)

// IsAgencyRole reports whether r is held in an agency rather than one sub-account.
func (r Role) IsAgencyRole() bool {
	return r == RoleAgencyOwner || r == RoleAgencyAdmin || r == RoleAgencyUser
}

// IsAccountRole reports whether r is held in one sub-account.
func (r Role) IsAccountRole() bool {
	return r == RoleAccountAdmin || r == RoleAccountUser
}

// rank orders roles so that, when a user holds several on one sub-account, the widest wins.
func (r Role) rank() int {
	switch r {
	case RoleAgencyOwner:
		return 5
	case RoleAgencyAdmin:
		return 4
	case RoleAgencyUser:
		return 3
	case RoleAccountAdmin:
		return 2
	case RoleAccountUser:
		return 1
	}
	return 0
}

// Label is the role as people read it.
func (r Role) Label() string {
	switch r {
	case RoleAgencyOwner:
		return "Agency owner"
	case RoleAgencyAdmin:
		return "Agency admin"
	case RoleAgencyUser:
		return "Agency user"
	case RoleAccountAdmin:
		return "Account admin"
	case RoleAccountUser:
		return "Account user"
	case RoleSupport:
		return "Support (read-only)"
	}
	return string(r)
}

// ParseRole returns the role named s, or false when s names none.
func ParseRole(s string) (Role, bool) {
	r := Role(s)
	return r, r.rank() > 0 || r == RoleSupport
}

// Status is the health of a connection.
type Status string

// Connection statuses (providers/README.md says what each means), in the order the overview shows them.
const (
	StatusHealthy            Status = "healthy"
	StatusExpiring           Status = "expiring"
	StatusDegraded           Status = "degraded"
	StatusReauthRequired     Status = "reauth_required"
	StatusPermissionsMissing Status = "permissions_missing"
	StatusBlocked            Status = "blocked"
	StatusDisconnected       Status = "disconnected"
)

// Statuses lists every status in display order.
var Statuses = []Status{
	StatusHealthy, StatusExpiring, StatusDegraded, StatusReauthRequired,
	StatusPermissionsMissing, StatusBlocked, StatusDisconnected,
}

// Label is the status as people read it.
func (s Status) Label() string {
	switch s {
	case StatusHealthy:
		return "Healthy"
	case StatusExpiring:
		return "Expiring soon"
	case StatusDegraded:
		return "Degraded"
	case StatusReauthRequired:
		return "Reauthentication required"
	case StatusPermissionsMissing:
		return "Permissions missing"
	case StatusBlocked:
		return "Blocked"
	case StatusDisconnected:
		return "Disconnected"
	}
	return string(s)
}

// Agency is a marketing agency, the top-level tenant.
type Agency struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SubAccount is one client business of an agency.
type SubAccount struct {
	ID        int64
	AgencyID  int64
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// User is a person who signs in to Relink.
type User struct {
	ID           int64
	Email        string
	Name         string
	PasswordHash string
	PlatformRole string
	LastLoginAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Membership is a user's role in one agency or one sub-account (exactly one of the two ids is set).
type Membership struct {
	ID           int64
	UserID       int64
	AgencyID     *int64
	SubAccountID *int64
	Role         Role
	CreatedAt    time.Time
}

// Connection is one OAuth grant of one provider user inside one sub-account.
// AccessToken and RefreshToken hold ciphertext (see Cipher); never plaintext.
type Connection struct {
	ID                  int64
	SubAccountID        int64
	Provider            string
	ExternalUserID      string
	ExternalUserName    string
	Scopes              string
	AccessToken         []byte
	RefreshToken        []byte
	TokenExpiresAt      *time.Time
	RefreshExpiresAt    *time.Time
	DataAccessExpiresAt *time.Time
	Status              Status
	Reason              providers.Reason
	// ReasonDetail names what the reason is about, such as the missing permission.
	ReasonDetail        string
	LastErrorCode       int
	LastErrorSubcode    int
	LastErrorMessage    string
	LastCheckedAt       *time.Time
	NextCheckAt         *time.Time
	ConsecutiveFailures int
	TotalFailures       int
	StatusChangedAt     *time.Time
	// UnreachableSince is the first transient failure of the current streak; nil while
	// the provider answers.
	UnreachableSince *time.Time
	// IncidentID is the provider incident the connection's last failed check belonged to.
	IncidentID *int64
	// IncidentSince is when the connection's current need for action began; nil while it
	// works. It stays while the connection moves between statuses that need action.
	IncidentSince     *time.Time
	ConnectedByUserID *int64
	// ConnectedAt is when ConnectedByUserID made the current grant.
	ConnectedAt    *time.Time
	DisconnectedAt *time.Time
	// LeaseUntil and LeaseOwner keep two refreshes of the whole connection apart, across
	// replicas.
	LeaseUntil *time.Time
	LeaseOwner string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Asset is a page, ad account or similar reached through a connection, with the data the
// refresh icon fetches. Amounts are kept as the provider's decimal strings in minor units.
type Asset struct {
	ID                   int64
	ConnectionID         int64
	SubAccountID         int64
	Kind                 providers.AssetKind
	ExternalID           string
	ParentExternalID     string
	Name                 string
	Selected             bool
	Currency             string
	AmountSpent          string
	SpendCap             string
	AccountStatus        providers.AccountStatus
	DisableReason        providers.DisableReason
	TosAccepted          *bool
	UserTasks            string
	FundingSourcePresent *bool
	Datasets             string
	LastRefreshedAt      *time.Time
	LastErrorCode        int
	LastErrorMessage     string
	// LastErrorReason is a problem of this asset alone (a lost Page role, a disabled
	// account); the connection stays healthy.
	LastErrorReason providers.Reason
	// MissingSince is when the asset stopped being reachable through its connection; it
	// is kept, flagged, rather than deleted.
	MissingSince *time.Time
	LeaseUntil   *time.Time
	LeaseOwner   string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Actor types of a history event.
const (
	ActorUser    = "user"
	ActorSystem  = "system"
	ActorSupport = "support"
)

// ConnectionEvent is one line of a connection's history. It never holds a token.
type ConnectionEvent struct {
	ID              int64
	SubAccountID    int64
	ConnectionID    *int64
	AssetID         *int64
	Kind            string
	ActorType       string
	ActorUserID     *int64
	OldStatus       Status
	NewStatus       Status
	Reason          providers.Reason
	ProviderCode    int
	ProviderSubcode int
	ProviderMessage string
	RequestID       string
	Detail          string
	CreatedAt       time.Time
}

// NotificationSetting says which emails a user wants, for one sub-account or (nil) all.
type NotificationSetting struct {
	ID           int64
	UserID       int64
	SubAccountID *int64
	Incidents    bool
	Reminders    bool
	Digest       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}
