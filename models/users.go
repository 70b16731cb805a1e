package models

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"gorm.io/gorm"
)

// ErrBadCredentials is returned by Authenticate for an unknown email or a wrong password alike.
var ErrBadCredentials = errors.New("models: wrong email or password")

// NormalizeEmail lower-cases and trims an email address; it returns false when s is not one.
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") {
		return s, false
	}
	return s, true
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Email    string
	Name     string
	Password string
	// Support makes the user platform support: read-only across every tenant.
	Support bool
	// Role, with AgencyID for an agency role or SubAccountID for a sub-account role, is
	// the membership created with the user, in the same transaction.
	Role         Role
	AgencyID     int64
	SubAccountID int64
}

// membership returns the membership nu asks for and whether it asks for one.
func (nu NewUser) membership() (Membership, bool, error) {
	switch {
	case nu.Role == "" || nu.Role == RoleSupport:
		return Membership{}, false, nil
	case nu.Role.IsAgencyRole() && nu.AgencyID != 0 && nu.SubAccountID == 0:
		return Membership{AgencyID: &nu.AgencyID, Role: nu.Role}, true, nil
	case nu.Role.IsAccountRole() && nu.SubAccountID != 0 && nu.AgencyID == 0:
		return Membership{SubAccountID: &nu.SubAccountID, Role: nu.Role}, true, nil
	}
	return Membership{}, false, fmt.Errorf("models: create user: role %q needs exactly its agency or sub-account", nu.Role)
}

// CreateUser stores a user with an argon2id hash of the password.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	email, ok := NormalizeEmail(nu.Email)
	if !ok {
		return User{}, fmt.Errorf("models: create user: %q is not an email address", nu.Email)
	}
	if len(nu.Password) < MinPasswordLength {
		return User{}, fmt.Errorf("models: create user: password shorter than %d characters", MinPasswordLength)
	}
	hash, err := s.hashPassword(nu.Password)
	if err != nil {
		return User{}, err
	}
	m, hasMembership, err := nu.membership()
	if err != nil {
		return User{}, err
	}
	u := User{Email: email, Name: strings.TrimSpace(nu.Name), PasswordHash: hash}
	if nu.Support || nu.Role == RoleSupport {
		u.PlatformRole = string(RoleSupport)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&u).Error; err != nil {
			return dbError("create user", err)
		}
		if !hasMembership {
			return nil
		}
		m.UserID = u.ID
		return dbError("create membership", tx.Create(&m).Error)
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// Authenticate returns the user with this email and password, or ErrBadCredentials.
// An unknown email costs the same password check as a wrong password.
func (s *Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	email, _ = NormalizeEmail(email)
	var u User
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		_, _ = CheckPassword(dummyHash(), password)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, dbError("authenticate", err)
	}
	ok, err := CheckPassword(u.PasswordHash, password)
	if err != nil {
		return User{}, fmt.Errorf("models: authenticate user %d: %w", u.ID, err)
	}
	if !ok {
		return User{}, ErrBadCredentials
	}
	now := s.Now()
	if err := s.db.WithContext(ctx).Model(&u).Update("last_login_at", now).Error; err != nil {
		return User{}, dbError("record login", err)
	}
	return u, nil
}

// UserByID returns the user with this id.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	return u, dbError("load user", err)
}

// UserByEmail returns the user with this email.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	email, _ = NormalizeEmail(email)
	var u User
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	return u, dbError("load user by email", err)
}

// AddAgencyMembership gives a user an agency role.
func (s *Store) AddAgencyMembership(ctx context.Context, userID, agencyID int64, role Role) error {
	if !role.IsAgencyRole() {
		return fmt.Errorf("models: %q is not an agency role", role)
	}
	m := Membership{UserID: userID, AgencyID: &agencyID, Role: role}
	return dbError("add agency membership", s.db.WithContext(ctx).Create(&m).Error)
}

// AddAccountMembership gives a user a role in one sub-account.
func (s *Store) AddAccountMembership(ctx context.Context, userID, subAccountID int64, role Role) error {
	if !role.IsAccountRole() {
		return fmt.Errorf("models: %q is not a sub-account role", role)
	}
	m := Membership{UserID: userID, SubAccountID: &subAccountID, Role: role}
	return dbError("add sub-account membership", s.db.WithContext(ctx).Create(&m).Error)
}

// CountUsers returns how many users exist; zero means a fresh database.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&User{}).Count(&n).Error
	return n, dbError("count users", err)
}
