package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Session is the server-side record of one sign-in. Only a hash of the id in the cookie is
// kept, so a copy of the database cannot be turned into cookies.
type Session struct {
	IDHash    string `gorm:"primaryKey"`
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

func hashSessionID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// CreateSession records a new sign-in of userID, valid until expires, and returns its id.
// Sessions run on wall-clock time, never the sandbox clock: advancing the sandbox by 60 days
// must not sign everyone out.
func (s *Store) CreateSession(ctx context.Context, userID int64, now, expires time.Time) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := hex.EncodeToString(b)
	sess := Session{IDHash: hashSessionID(id), UserID: userID, CreatedAt: now.UTC(), ExpiresAt: expires.UTC()}
	if err := s.db.WithContext(ctx).Create(&sess).Error; err != nil {
		return "", dbError("create session", err)
	}
	return id, nil
}

// PrincipalForSession returns the user of a live session (not revoked, not expired at now)
// with their memberships, or ErrNotFound.
func (s *Store) PrincipalForSession(ctx context.Context, id string, now time.Time) (Principal, error) {
	if id == "" {
		return Principal{}, ErrNotFound
	}
	var u User
	err := s.db.WithContext(ctx).Table("users").Select("users.*").
		Joins("JOIN sessions ON sessions.user_id = users.id").
		Where("sessions.id_hash = ? AND sessions.revoked_at IS NULL AND sessions.expires_at > ?", hashSessionID(id), now.UTC()).
		Take(&u).Error
	if err != nil {
		return Principal{}, dbError("load session", err)
	}
	return s.principalOf(ctx, u)
}

// RevokeSession ends a session; revoking an unknown or ended one is not an error.
func (s *Store) RevokeSession(ctx context.Context, id string, now time.Time) error {
	err := s.db.WithContext(ctx).Model(&Session{}).
		Where("id_hash = ? AND revoked_at IS NULL", hashSessionID(id)).Update("revoked_at", now.UTC()).Error
	return dbError("revoke session", err)
}

// PruneSessions deletes the sessions that expired at or before now or were revoked, and
// returns how many. Revoked rows need not be kept: PrincipalForSession refuses a session
// whose row is gone as it refuses a revoked one. Like every session method it runs on
// wall-clock time.
func (s *Store) PruneSessions(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at <= ? OR revoked_at IS NOT NULL", now.UTC()).Delete(&Session{})
	if res.Error != nil {
		return 0, dbError("prune sessions", res.Error)
	}
	return res.RowsAffected, nil
}
