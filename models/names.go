package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
)

// MaxNameLength is the longest agency or sub-account name, in characters.
const MaxNameLength = 200

// ErrInvalidName is returned for an agency or sub-account name that is empty, too long or
// holds control characters; the error is a *NameError saying which.
var ErrInvalidName = errors.New("models: invalid name")

// ErrAmbiguousName is returned by AgencyByName when several agencies have the name.
var ErrAmbiguousName = errors.New("models: ambiguous name")

// NameError says why a name was refused; it matches ErrInvalidName.
type NameError struct {
	// Reason completes "the name …", e.g. "is empty".
	Reason string
}

// Error says which rule the name broke.
func (e *NameError) Error() string { return "models: invalid name: the name " + e.Reason }

// Is makes errors.Is(err, ErrInvalidName) true.
func (e *NameError) Is(target error) bool { return target == ErrInvalidName }

// NameTakenError is a name that another agency, or another sub-account of the same agency,
// already has; it matches ErrConflict.
type NameTakenError struct {
	// Kind is "agency" or "sub-account".
	Kind string
	// ID and Name are the record that has the name, as it is spelled there.
	ID   int64
	Name string
}

// Error names the record that has the name.
func (e *NameTakenError) Error() string {
	return fmt.Sprintf("models: %s %d is already named %q", e.Kind, e.ID, e.Name)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *NameTakenError) Is(target error) bool { return target == ErrConflict }

// cleanName trims a name and refuses one that would mislead where it is shown: names are
// printed on terminals and in emails, where control characters can rewrite what is seen.
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case !utf8.ValidString(name):
		return "", &NameError{"is not valid UTF-8"}
	case name == "":
		return "", &NameError{"is empty"}
	case utf8.RuneCountInString(name) > MaxNameLength:
		return "", &NameError{fmt.Sprintf("is longer than %d characters", MaxNameLength)}
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", &NameError{"has a control character"}
	}
	return name, nil
}

// sameName is how names clash: trimmed and without regard to case, in any script.
func sameName(a, b string) bool { return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b)) }

// namesLockKey is the PostgreSQL advisory lock that makes "no other agency or sub-account
// has this name, so insert it" one step. Any fixed number unused elsewhere will do.
const namesLockKey int64 = 0x72656c696e6b01

// lockNames serialises name checks with inserts for the rest of tx. SQLite needs nothing:
// its transactions begin IMMEDIATE, so writers already run one at a time. The database
// cannot enforce the rule itself: names are compared in every script's case, and existing
// databases may already hold duplicates, which a unique index would refuse to build on.
func (s *Store) lockNames(tx *gorm.DB) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(?)", namesLockKey).Error
}

// CreateAgency stores a new agency. The name is trimmed; an invalid one is ErrInvalidName
// and one that another agency has, whatever the case, ErrConflict.
func (s *Store) CreateAgency(ctx context.Context, name string) (Agency, error) {
	name, err := cleanName(name)
	if err != nil {
		return Agency{}, err
	}
	a := Agency{Name: name}
	others := func(tx *gorm.DB) *gorm.DB { return tx.Model(&Agency{}) }
	if err := s.createNamed(ctx, "agency", name, others, &a); err != nil {
		return Agency{}, err
	}
	return a, nil
}

// CreateSubAccount stores a new sub-account of an agency. The name is trimmed; an invalid
// one is ErrInvalidName and one that another sub-account of the agency has, whatever the
// case, ErrConflict.
func (s *Store) CreateSubAccount(ctx context.Context, agencyID int64, name string) (SubAccount, error) {
	name, err := cleanName(name)
	if err != nil {
		return SubAccount{}, err
	}
	sa := SubAccount{AgencyID: agencyID, Name: name}
	others := func(tx *gorm.DB) *gorm.DB { return tx.Model(&SubAccount{}).Where("agency_id = ?", agencyID) }
	if err := s.createNamed(ctx, "sub-account", name, others, &sa); err != nil {
		return SubAccount{}, err
	}
	return sa, nil
}

// createNamed inserts row, a kind named name, in one transaction with the check that none
// of the rows others selects already has the name (a *NameTakenError if one has).
func (s *Store) createNamed(ctx context.Context, kind, name string, others func(tx *gorm.DB) *gorm.DB, row any) error {
	op := "create " + kind
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockNames(tx); err != nil {
			return dbError(op, err)
		}
		var existing []struct {
			ID   int64
			Name string
		}
		if err := others(tx).Select("id", "name").Find(&existing).Error; err != nil {
			return dbError(op, err)
		}
		for _, e := range existing {
			if sameName(e.Name, name) {
				return &NameTakenError{Kind: kind, ID: e.ID, Name: e.Name}
			}
		}
		return dbError(op, tx.Create(row).Error)
	})
}

// AgencyByName returns the agency with this name, compared as CreateAgency compares names.
// A database from before that check may hold several: then the error is ErrAmbiguousName
// and names their ids, so the caller can ask for one by id.
func (s *Store) AgencyByName(ctx context.Context, name string) (Agency, error) {
	var all, found []Agency
	if err := s.db.WithContext(ctx).Order("id").Find(&all).Error; err != nil {
		return Agency{}, dbError("load agency by name", err)
	}
	for _, a := range all {
		if sameName(a.Name, name) {
			found = append(found, a)
		}
	}
	switch len(found) {
	case 0:
		return Agency{}, ErrNotFound
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, a := range found {
		ids[i] = fmt.Sprint(a.ID)
	}
	return Agency{}, fmt.Errorf("%w: %d agencies are named %q (ids %s)", ErrAmbiguousName, len(found), strings.TrimSpace(name), strings.Join(ids, ", "))
}
