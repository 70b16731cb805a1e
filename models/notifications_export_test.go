package models

import "context"

// DefaultSettingRows counts the default (no sub-account) notification settings rows of
// userID, for tests that check a race left no duplicate.
func (s *Store) DefaultSettingRows(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&NotificationSetting{}).Where("user_id = ? AND sub_account_id IS NULL", userID).Count(&n).Error
	return n, err
}

// InsertDefaultSetting inserts a default settings row without looking for one, as a race
// of two saves before SaveNotificationPrefs locked the user could.
func (s *Store) InsertDefaultSetting(ctx context.Context, userID int64, m NotificationMode) error {
	incidents, reminders, digest := m.columns()
	return s.db.WithContext(ctx).Create(&NotificationSetting{UserID: userID, Incidents: incidents, Reminders: reminders, Digest: digest}).Error
}
