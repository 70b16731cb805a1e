package models

import (
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// providerLimit is a row of provider_limits: a provider's rate-limit state in one scope
// (meta.ScopeApp, meta.ObjectScope, meta.TokenScope), shared by every replica.
type providerLimit struct {
	Provider     string `gorm:"primaryKey"`
	Scope        string `gorm:"primaryKey"`
	Usage        int
	BlockedUntil *time.Time
	UpdatedAt    time.Time // stamped by gorm with the Store's clock, as every table's
}

// ProviderLimits is one provider's rate-limit state in the database, so that every
// replica respects a pause any of them learned. It satisfies meta.LimitStore; hand it
// to meta.Config.Limits.
type ProviderLimits struct {
	s        *Store
	provider string
}

// ProviderLimits returns the rate-limit state of provider ("meta").
func (s *Store) ProviderLimits(provider string) *ProviderLimits {
	return &ProviderLimits{s: s, provider: provider}
}

// Load returns the usage and the pause of each of scopes that has any, in one
// statement: it runs before every provider call.
func (p *ProviderLimits) Load(ctx context.Context, scopes []string) (map[string]int, map[string]time.Time, error) {
	usage, paused := map[string]int{}, map[string]time.Time{}
	if len(scopes) == 0 {
		return usage, paused, nil
	}
	var rows []providerLimit
	err := p.s.db.WithContext(ctx).Select("scope", "usage", "blocked_until").
		Where("provider = ? AND scope IN ?", p.provider, scopes).Find(&rows).Error
	if err != nil {
		return nil, nil, dbError("load provider limits", err)
	}
	for _, r := range rows {
		usage[r.Scope] = r.Usage
		if r.BlockedUntil != nil {
			paused[r.Scope] = *r.BlockedUntil
		}
	}
	return usage, paused, nil
}

// Record sets the usage of the scopes in usage and the pause of those in pausedUntil,
// each upsert leaving the other column alone: one statement for each map that is not
// empty.
func (p *ProviderLimits) Record(ctx context.Context, usage map[string]int, pausedUntil map[string]time.Time) error {
	if len(usage) > 0 {
		rows := make([]providerLimit, 0, len(usage))
		for scope, u := range usage {
			rows = append(rows, providerLimit{Provider: p.provider, Scope: scope, Usage: u})
		}
		if err := p.upsert(ctx, rows, "usage"); err != nil {
			return dbError("record provider usage", err)
		}
	}
	if len(pausedUntil) > 0 {
		rows := make([]providerLimit, 0, len(pausedUntil))
		for scope, t := range pausedUntil {
			until := ceilSecond(t.UTC())
			rows = append(rows, providerLimit{Provider: p.provider, Scope: scope, BlockedUntil: &until})
		}
		if err := p.upsert(ctx, rows, "blocked_until"); err != nil {
			return dbError("record provider pause", err)
		}
	}
	return nil
}

// upsert inserts rows or, for those that exist, sets column and updated_at.
func (p *ProviderLimits) upsert(ctx context.Context, rows []providerLimit, column string) error {
	// Rows in key order: two replicas upserting the same scopes in different orders
	// could otherwise deadlock on PostgreSQL's row locks.
	slices.SortFunc(rows, func(a, b providerLimit) int { return strings.Compare(a.Scope, b.Scope) })
	return p.s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "provider"}, {Name: "scope"}},
		DoUpdates: clause.AssignmentColumns([]string{column, "updated_at"}),
	}).Create(&rows).Error
}

// ceilSecond rounds t up to the whole second: SQLite keeps times to the second
// (SQLiteDSN's _timefmt), and a pause read back shorter than Meta asked for would let
// a call through early.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}
