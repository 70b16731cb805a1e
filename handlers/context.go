package handlers

import (
	"context"

	"github.com/relink/relink/models"
)

// ctxKey is unexported so no other package can read or overwrite these values.
type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyPrincipal
	keyTenant
)

// Tenant is the sub-account a request acts on and the user's role in it, loaded once by
// the tenancy middleware.
type Tenant struct {
	SubAccount models.SubAccountRef
	Role       models.Role
}

func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, keyRequestID, id)
}

// RequestID returns the id of the request, as logged and shown on error pages.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

func withPrincipal(ctx context.Context, p *models.Principal) context.Context {
	return context.WithValue(ctx, keyPrincipal, p)
}

// principalFrom returns the signed-in user, or nil outside the authenticated routes.
func principalFrom(ctx context.Context) *models.Principal {
	p, _ := ctx.Value(keyPrincipal).(*models.Principal)
	return p
}

func withTenant(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, keyTenant, t)
}

// tenantFrom returns the sub-account of the request, or nil outside /accounts/{id}.
func tenantFrom(ctx context.Context) *Tenant {
	t, _ := ctx.Value(keyTenant).(*Tenant)
	return t
}
