// Package providers defines what Relink needs from an OAuth provider (Meta, LinkedIn),
// the provider-independent failure reasons, and the classified error type.
//
// Implementations live in providers/meta and providers/linkedin; providers/sandbox
// emulates both on the wire.
package providers

import (
	"context"
	"time"

	"github.com/markbates/goth"
)

// DefaultTimeout bounds every provider call whose context has no earlier deadline.
const DefaultTimeout = 20 * time.Second

// Provider is one OAuth provider as the dashboard uses it. Every method takes a
// context, applies a timeout, and returns errors that contain a *Error. When the
// caller cancels the context (shutdown, a request that went away), the error
// satisfies IsCanceled (and errors.Is(err, context.Canceled)): it says nothing
// about the provider or the connection, so callers record nothing for it.
type Provider interface {
	// Name is the provider's identifier: "meta" or "linkedin".
	Name() string
	// Goth returns the goth provider that gothic uses to run the OAuth dance.
	Goth() goth.Provider
	// Me returns the user behind the token.
	Me(ctx context.Context, tok Token) (User, error)
	// DiscoverAssets lists everything the token reaches, following paging to the end.
	DiscoverAssets(ctx context.Context, tok Token) ([]Asset, error)
	// RefreshAsset fetches one asset's current data.
	RefreshAsset(ctx context.Context, tok Token, kind AssetKind, externalID string) (Asset, error)
	// InspectToken asks the provider whether the token is valid, when it expires and
	// what it grants. An invalid token is not an error: TokenInfo.Problem says why.
	InspectToken(ctx context.Context, tok Token) (TokenInfo, error)
	// RenewToken returns a fresher token: Meta exchanges for a long-lived token,
	// refresh-token providers run the refresh grant.
	RenewToken(ctx context.Context, tok Token) (Token, error)
	// Classify turns any error returned by this provider into a *Error.
	Classify(err error) *Error
	// Revoke withdraws the app's access for the token's user.
	Revoke(ctx context.Context, tok Token) error
}

// WithTimeout bounds ctx by d (DefaultTimeout when d is zero) unless it already has
// an earlier deadline.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		d = DefaultTimeout
	}
	return context.WithTimeout(ctx, d)
}
