package models

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm/clause"
)

// NotificationMode is how a user wants the emails about one sub-account, or about every
// sub-account by default.
type NotificationMode string

// The modes. They map onto notification_settings' columns (see NotificationMode.columns)
// rather than a column of their own, so rows written before modes existed read the same.
const (
	// NotifyInherit, on a sub-account, follows the user's default; it is never stored.
	NotifyInherit NotificationMode = ""
	// NotifyImmediate sends each email as soon as it is queued.
	NotifyImmediate NotificationMode = "immediate"
	// NotifyDigest holds the emails for one daily digest.
	NotifyDigest NotificationMode = "digest"
	// NotifyOff sends none.
	NotifyOff NotificationMode = "off"
)

// NotificationModes lists the modes a user can choose, in the order forms offer them.
var NotificationModes = []NotificationMode{NotifyImmediate, NotifyDigest, NotifyOff}

// ParseNotificationMode returns the mode named s, or false when s names none of
// NotificationModes.
func ParseNotificationMode(s string) (NotificationMode, bool) {
	m := NotificationMode(s)
	return m, slices.Contains(NotificationModes, m)
}

// Label is the mode as the settings page names it.
func (m NotificationMode) Label() string {
	switch m {
	case NotifyImmediate:
		return "Right away"
	case NotifyDigest:
		return "Daily digest"
	case NotifyOff:
		return "Off"
	case NotifyInherit:
		return "Same as default"
	}
	return string(m)
}

// columns are the stored booleans of m: off turns incidents off, digest holds them for the
// digest, and reminders follow the mode (a user who wants no incident email wants no
// reminder either).
func (m NotificationMode) columns() (incidents, reminders, digest bool) {
	switch m {
	case NotifyOff:
		return false, false, false
	case NotifyDigest:
		return true, true, true
	}
	return true, true, false
}

// Mode is the mode the row stands for.
func (ns NotificationSetting) Mode() NotificationMode {
	switch {
	case !ns.Incidents:
		return NotifyOff
	case ns.Digest:
		return NotifyDigest
	}
	return NotifyImmediate
}

// NotificationPrefs are a user's notification settings.
type NotificationPrefs struct {
	// Default applies to every sub-account without an override; NotifyImmediate for a user
	// who never saved any.
	Default NotificationMode
	// Overrides maps a sub-account's id to its own mode.
	Overrides map[int64]NotificationMode
}

// For is the mode that applies to sub-account id.
func (p NotificationPrefs) For(id int64) NotificationMode {
	if m, ok := p.Overrides[id]; ok {
		return m
	}
	return p.Default
}

// NotificationPrefsOf returns the settings of user userID, in one statement.
func (s *Store) NotificationPrefsOf(ctx context.Context, userID int64) (NotificationPrefs, error) {
	var rows []NotificationSetting
	// Newest first, so that of two default rows (see SaveNotificationPrefs) the newer wins.
	err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("updated_at DESC, id DESC").Find(&rows).Error
	if err != nil {
		return NotificationPrefs{}, dbError("load notification settings", err)
	}
	p := NotificationPrefs{Default: NotifyImmediate, Overrides: map[int64]NotificationMode{}}
	seenDefault := false
	for _, r := range rows {
		switch {
		case r.SubAccountID != nil:
			p.Overrides[*r.SubAccountID] = r.Mode()
		case !seenDefault:
			p.Default, seenDefault = r.Mode(), true
		}
	}
	return p, nil
}

// NotificationChange is what the settings form saves.
type NotificationChange struct {
	Default NotificationMode
	// Overrides sets the mode of each sub-account it names; NotifyInherit removes the
	// sub-account's override. Sub-accounts it does not name keep theirs.
	Overrides map[int64]NotificationMode
}

// SaveNotificationPrefs writes p's own settings in one transaction. Every sub-account of
// ch.Overrides must be one p can reach, or nothing is written and ErrNotFound returned.
//
// The default row has no sub-account, and the unique index on (user_id, sub_account_id)
// does not stop two NULLs: the default is updated in place, inserted only when there is
// none, and any duplicate a race left behind is deleted. On PostgreSQL the user's row is
// locked first so that two saves of one user take turns; SQLite's write transactions
// already do.
func (s *Store) SaveNotificationPrefs(ctx context.Context, p Principal, ch NotificationChange) error {
	if _, ok := ParseNotificationMode(string(ch.Default)); !ok {
		return fmt.Errorf("models: save notification settings: unknown default mode %q", ch.Default)
	}
	var set, unset []int64
	for id, m := range ch.Overrides {
		switch _, ok := ParseNotificationMode(string(m)); {
		case m == NotifyInherit:
			unset = append(unset, id)
		case ok:
			set = append(set, id)
		default:
			return fmt.Errorf("models: save notification settings: unknown mode %q", m)
		}
	}
	slices.Sort(set)
	userID := p.User.ID
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if tx.dialect == DialectPostgres {
			var id int64
			if err := db.Table("users").Select("id").Where("id = ?", userID).
				Clauses(clause.Locking{Strength: "UPDATE"}).Scan(&id).Error; err != nil {
				return dbError("lock user", err)
			}
		}
		if ids := append(slices.Clone(set), unset...); len(ids) > 0 {
			var n int64
			if err := tx.subAccountRefs(ctx, p).Where("sub_accounts.id IN ?", ids).Count(&n).Error; err != nil {
				return dbError("check sub-accounts", err)
			}
			if n != int64(len(ids)) {
				return ErrNotFound
			}
		}
		if err := tx.saveDefaultSetting(ctx, userID, ch.Default); err != nil {
			return err
		}
		if len(unset) > 0 {
			err := db.Where("user_id = ? AND sub_account_id IN ?", userID, unset).Delete(&NotificationSetting{}).Error
			if err != nil {
				return dbError("delete notification overrides", err)
			}
		}
		if len(set) == 0 {
			return nil
		}
		now := tx.Now().Truncate(time.Second)
		rows := make([]NotificationSetting, len(set))
		for i, id := range set {
			incidents, reminders, digest := ch.Overrides[id].columns()
			rows[i] = NotificationSetting{UserID: userID, SubAccountID: &id, Incidents: incidents,
				Reminders: reminders, Digest: digest, CreatedAt: now, UpdatedAt: now}
		}
		err := db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "user_id"}, {Name: "sub_account_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"incidents", "reminders", "digest", "updated_at"}),
		}).Create(&rows).Error
		return dbError("save notification overrides", err)
	})
}

// saveDefaultSetting updates or inserts the default row of userID, inside a transaction.
func (s *Store) saveDefaultSetting(ctx context.Context, userID int64, m NotificationMode) error {
	db := s.db.WithContext(ctx)
	incidents, reminders, digest := m.columns()
	var ids []int64
	if err := db.Model(&NotificationSetting{}).Where("user_id = ? AND sub_account_id IS NULL", userID).
		Order("id").Pluck("id", &ids).Error; err != nil {
		return dbError("load default notification setting", err)
	}
	if len(ids) == 0 {
		row := NotificationSetting{UserID: userID, Incidents: incidents, Reminders: reminders, Digest: digest}
		return dbError("insert default notification setting", db.Create(&row).Error)
	}
	err := db.Model(&NotificationSetting{}).Where("id = ?", ids[0]).Updates(map[string]any{
		"incidents": incidents, "reminders": reminders, "digest": digest,
		"updated_at": s.Now().Truncate(time.Second),
	}).Error
	if err != nil {
		return dbError("update default notification setting", err)
	}
	if len(ids) > 1 {
		err := db.Where("id IN ?", ids[1:]).Delete(&NotificationSetting{}).Error
		return dbError("delete duplicate default notification settings", err)
	}
	return nil
}
