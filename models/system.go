package models

import "context"

// System is the store without a tenant: lookups by bare id for the background jobs and the
// command line, which act with the operator's authority rather than a user's. Handlers never
// use it; everything they read goes through a method that takes the tenant.
type System struct {
	s *Store
}

// System returns the unscoped view of the store.
func (s *Store) System() System { return System{s: s} }

// SubAccountByID returns a sub-account without any tenant check.
func (sys System) SubAccountByID(ctx context.Context, id int64) (SubAccount, error) {
	var sa SubAccount
	err := sys.s.db.WithContext(ctx).Where("id = ?", id).Take(&sa).Error
	return sa, dbError("load sub-account", err)
}

// AgencyByID returns an agency without any tenant check.
func (sys System) AgencyByID(ctx context.Context, id int64) (Agency, error) {
	var a Agency
	err := sys.s.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error
	return a, dbError("load agency", err)
}
