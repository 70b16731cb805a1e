package providers

// Reason is a provider-independent explanation of why a connection or call failed.
// The app stores it on the connection and shows its Message and Fix to end users.
type Reason string

// The reasons, documented with their meaning, fix and provider signals in README.md.
const (
	ReasonTokenExpired        Reason = "token_expired"
	ReasonPasswordChanged     Reason = "password_changed"
	ReasonAppRemoved          Reason = "app_removed"
	ReasonSecurityCheckpoint  Reason = "security_checkpoint"
	ReasonUnconfirmedAccount  Reason = "unconfirmed_account"
	ReasonSessionInvalidated  Reason = "session_invalidated"
	ReasonLostAssetRole       Reason = "lost_asset_role"
	ReasonMissingPermission   Reason = "missing_permission"
	ReasonRefreshTokenInvalid Reason = "refresh_token_invalid"
	ReasonRateLimited         Reason = "rate_limited"
	ReasonProviderUnavailable Reason = "provider_unavailable"
	ReasonPolicyBlocked       Reason = "policy_blocked"
	ReasonUnknown             Reason = "unknown"
)

type reasonText struct {
	message string
	fix     string
}

var reasonTexts = map[Reason]reasonText{
	ReasonTokenExpired: {
		"The connection's access has expired, so we can no longer read this account's data.",
		"Click Reauthenticate and log in again with the same account.",
	},
	ReasonPasswordChanged: {
		"The account's password was changed, which signs out every app connected to it.",
		"Click Reauthenticate and log in with the new password.",
	},
	ReasonAppRemoved: {
		"Relink was removed from the account's app settings, so the connection no longer works.",
		"Click Reauthenticate and approve Relink again when asked.",
	},
	ReasonSecurityCheckpoint: {
		"The provider locked the account behind a security check, so connected apps are paused.",
		"Log in to the provider's website, complete the security check, then click Reauthenticate.",
	},
	ReasonUnconfirmedAccount: {
		"The account has not been confirmed yet, so the provider does not allow apps to use it.",
		"Confirm the account (follow the email or SMS the provider sent), then click Reauthenticate.",
	},
	ReasonSessionInvalidated: {
		"The account was logged out or its session was ended, which disconnected Relink.",
		"Click Reauthenticate and log in again.",
	},
	ReasonLostAssetRole: {
		"The connected person no longer has a role on this page or ad account.",
		"Ask an admin of the page or ad account to give the connected person their role back, or reconnect with someone who has it.",
	},
	ReasonMissingPermission: {
		"A permission Relink needs was not granted or was removed.",
		"Click Reauthenticate and keep every requested permission ticked.",
	},
	ReasonRefreshTokenInvalid: {
		"The connection's long-term access has ended and can no longer be renewed automatically.",
		"Click Reauthenticate and log in again.",
	},
	ReasonRateLimited: {
		"The provider asked us to slow down; data will refresh again shortly.",
		"Nothing to do: Relink retries automatically once the provider allows it.",
	},
	ReasonProviderUnavailable: {
		"The provider could not be reached or had a temporary problem; the connection is still valid.",
		"Nothing to do: Relink retries automatically.",
	},
	ReasonPolicyBlocked: {
		"The provider blocked this action because of a policy restriction on the account.",
		"Log in to the provider's website, review the account's notifications or Account Quality, and resolve the restriction.",
	},
	ReasonUnknown: {
		"The provider returned an error we do not recognise.",
		"Try again later; if it keeps failing, contact support with the connection's history.",
	},
}

// AllReasons returns every reason, in the order README.md lists them.
func AllReasons() []Reason {
	return []Reason{
		ReasonTokenExpired, ReasonPasswordChanged, ReasonAppRemoved, ReasonSecurityCheckpoint,
		ReasonUnconfirmedAccount, ReasonSessionInvalidated, ReasonLostAssetRole,
		ReasonMissingPermission, ReasonRefreshTokenInvalid, ReasonRateLimited,
		ReasonProviderUnavailable, ReasonPolicyBlocked, ReasonUnknown,
	}
}

// ParseReason returns the reason named s, or false when s names none.
func ParseReason(s string) (Reason, bool) {
	r := Reason(s)
	_, ok := reasonTexts[r]
	return r, ok
}

// String returns the reason's stable identifier.
func (r Reason) String() string { return string(r) }

// Valid reports whether r is one of the known reasons.
func (r Reason) Valid() bool {
	_, ok := reasonTexts[r]
	return ok
}

// Message is a plain-language sentence for end users saying what broke.
func (r Reason) Message() string {
	if t, ok := reasonTexts[r]; ok {
		return t.message
	}
	return reasonTexts[ReasonUnknown].message
}

// Title is the reason in a few words, for a headline: "Password changed".
func (r Reason) Title() string {
	if t, ok := reasonTitles[r]; ok {
		return t
	}
	return reasonTitles[ReasonUnknown]
}

var reasonTitles = map[Reason]string{
	ReasonTokenExpired:        "Access expired",
	ReasonPasswordChanged:     "Password changed",
	ReasonAppRemoved:          "App removed",
	ReasonSecurityCheckpoint:  "Security check pending",
	ReasonUnconfirmedAccount:  "Account not confirmed",
	ReasonSessionInvalidated:  "Logged out",
	ReasonLostAssetRole:       "Role lost",
	ReasonMissingPermission:   "Permission missing",
	ReasonRefreshTokenInvalid: "Long-term access ended",
	ReasonRateLimited:         "Slowed down by the provider",
	ReasonProviderUnavailable: "Provider not answering",
	ReasonPolicyBlocked:       "Blocked by policy",
	ReasonUnknown:             "Unrecognised error",
}

// Fix is a plain-language sentence for end users saying how to repair it.
func (r Reason) Fix() string {
	if t, ok := reasonTexts[r]; ok {
		return t.fix
	}
	return reasonTexts[ReasonUnknown].fix
}

// Transient reports whether the reason is a passing condition that leaves the token
// presumed valid (the connection is degraded, retried, and no user is emailed).
func (r Reason) Transient() bool {
	return r == ReasonRateLimited || r == ReasonProviderUnavailable
}

// NeedsReauth reports whether only a new login by the user can repair the connection.
func (r Reason) NeedsReauth() bool {
	switch r {
	case ReasonTokenExpired, ReasonPasswordChanged, ReasonAppRemoved, ReasonSecurityCheckpoint,
		ReasonUnconfirmedAccount, ReasonSessionInvalidated, ReasonRefreshTokenInvalid,
		ReasonMissingPermission:
		return true
	}
	return false
}
