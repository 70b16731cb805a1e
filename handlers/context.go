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
	// Manage says the user may change the sub-account's connections (models.Principal.CanManage).
	Manage bool
}

// requestInfo is what the request log line needs from further down the chain. It is a
// pointer shared by every copy of the request, so the user found by requireUser reaches the
// logger that wraps it.
type requestInfo struct {
	id     string
	userID int64
	// audited says support's view of this page is already in the history.
	audited bool
}

func withRequestInfo(ctx context.Context, info *requestInfo) context.Context {
	return context.WithValue(ctx, keyRequestID, info)
}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(keyRequestID).(*requestInfo)
	return info
}

// RequestID returns the id of the request, as logged and shown on error pages.
func RequestID(ctx context.Context) string {
	if info := requestInfoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

func withPrincipal(ctx context.Context, p *models.Principal) context.Context {
	if info := requestInfoFrom(ctx); info != nil {
		info.userID = p.User.ID
	}
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
