package models

import (
	"context"
	"errors"
)

// CreateConnection stores a new connection in sub-account subAccountID; the id in c is ignored.
func (s *Store) CreateConnection(ctx context.Context, subAccountID int64, c Connection) (Connection, error) {
	if c.Provider == "" || c.ExternalUserID == "" {
		return Connection{}, errors.New("models: create connection: provider and external user id are required")
	}
	c.ID = 0
	c.SubAccountID = subAccountID
	if c.Status == "" {
		c.Status = StatusHealthy
	}
	err := s.db.WithContext(ctx).Create(&c).Error
	return c, dbError("create connection", err)
}
