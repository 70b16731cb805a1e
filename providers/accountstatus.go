package providers

import "strconv"

// AccountStatus is an ad account's standing, in Graph's account_status numbers, which
// Relink uses for every provider: LinkedIn's status names map onto them (see
// LinkedInAccountStatus). Zero means the provider said nothing (Pages, datasets).
type AccountStatus int

// The account statuses Graph documents for an ad account.
const (
	AccountUnknown           AccountStatus = 0
	AccountActive            AccountStatus = 1
	AccountDisabled          AccountStatus = 2
	AccountUnsettled         AccountStatus = 3
	AccountPendingRiskReview AccountStatus = 7
	AccountPendingSettlement AccountStatus = 8
	AccountInGracePeriod     AccountStatus = 9
	AccountPendingClosure    AccountStatus = 100
	AccountClosed            AccountStatus = 101
	AccountAnyActive         AccountStatus = 201
	AccountAnyClosed         AccountStatus = 202
	// AccountDraft is LinkedIn's DRAFT, which Graph does not have.
	AccountDraft AccountStatus = 1001
)

var accountStatusLabels = map[AccountStatus]string{
	AccountActive:            "Active",
	AccountDisabled:          "Disabled",
	AccountUnsettled:         "Unsettled: an unpaid balance stops the ads",
	AccountPendingRiskReview: "Under risk review",
	AccountPendingSettlement: "Waiting for payment to settle",
	AccountInGracePeriod:     "In grace period: settle the balance soon",
	AccountPendingClosure:    "Closing",
	AccountClosed:            "Closed",
	AccountAnyActive:         "Active",
	AccountAnyClosed:         "Closed",
	AccountDraft:             "Draft: not yet active",
}

// Label is the status in words; empty when the provider said nothing.
func (s AccountStatus) Label() string {
	if s == AccountUnknown {
		return ""
	}
	if l, ok := accountStatusLabels[s]; ok {
		return l
	}
	return "Status " + strconv.Itoa(int(s))
}

// Active reports whether ads can run on the account.
func (s AccountStatus) Active() bool { return s == AccountActive || s == AccountAnyActive }

// Problem reports whether the account is in a state someone must act on.
func (s AccountStatus) Problem() bool { return s != AccountUnknown && !s.Active() }

// LinkedInAccountStatus maps a LinkedIn ad account status (ACTIVE, CANCELED, DRAFT,
// PENDING_DELETION, REMOVED) onto Graph's numbers.
func LinkedInAccountStatus(s string) AccountStatus {
	switch s {
	case "ACTIVE":
		return AccountActive
	case "CANCELED", "REMOVED":
		return AccountClosed
	case "PENDING_DELETION":
		return AccountPendingClosure
	case "DRAFT":
		return AccountDraft
	case "":
		return AccountUnknown
	}
	return AccountDisabled
}

// DisableReason is Graph's disable_reason of an ad account; zero is none.
type DisableReason int

var disableReasonLabels = map[DisableReason]string{
	1:  "Ads integrity policy: ads broke Meta's advertising policies",
	2:  "Intellectual property review",
	3:  "Payment risk: a payment failed or looked unsafe",
	4:  "Shut down as a suspicious account",
	5:  "Under review by Meta's ads team",
	6:  "The business behind it was restricted",
	7:  "Permanently closed",
	8:  "Unused reseller account",
	9:  "Closed for lack of use",
	10: "Umbrella ad account",
	11: "Business Manager integrity policy",
	12: "Misrepresented ad account",
	13: "Shared with a business that lost access",
	14: "Under review for a messaging thread",
	15: "Compromised: Meta suspects someone else took control",
}

// Label is the reason in words; empty for none.
func (r DisableReason) Label() string {
	if r == 0 {
		return ""
	}
	if l, ok := disableReasonLabels[r]; ok {
		return l
	}
	return "Reason " + strconv.Itoa(int(r))
}
