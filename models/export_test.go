package models

import "context"

// InsertAgencyUnchecked stores an agency the way versions before the name checks did, so
// tests can build the duplicates an old database may hold.
func (s *Store) InsertAgencyUnchecked(ctx context.Context, name string) (Agency, error) {
	a := Agency{Name: name}
	err := s.db.WithContext(ctx).Create(&a).Error
	return a, dbError("insert agency", err)
}

// FlowSessionsOf returns the gothic sessions kept by the flows in stage, for tests that
// check what the table holds.
func (s *Store) FlowSessionsOf(ctx context.Context, stage FlowStage) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Model(&OAuthFlow{}).Where("stage = ?", stage).Pluck("goth_session", &out).Error
	return out, err
}
