package models

import (
	"context"
	"fmt"
)

// DemoLogin is one seeded account, printed at start-up so a newcomer can sign in.
type DemoLogin struct {
	Email string
	Role  Role
	Where string
}

// DemoAgencyName is the agency SeedDemo creates.
const DemoAgencyName = "Northwind Marketing"

// DemoSubAccounts are the sub-accounts SeedDemo creates.
var DemoSubAccounts = []string{"Bluebird Bakery", "Cedar Dental", "Harbor Fitness"}

// DemoLogins lists the users SeedDemo creates, all with the demo password.
var DemoLogins = []DemoLogin{
	{Email: "owner@northwind.test", Role: RoleAgencyOwner, Where: DemoAgencyName},
	{Email: "admin@bluebird.test", Role: RoleAccountAdmin, Where: "Bluebird Bakery"},
	{Email: "user@bluebird.test", Role: RoleAccountUser, Where: "Bluebird Bakery"},
	{Email: "support@relink.test", Role: RoleSupport, Where: "every agency"},
}

// SeedDemo fills an empty database with the demo agency and users and reports whether it did;
// a database that already has users is left alone.
func (s *Store) SeedDemo(ctx context.Context, password string) (bool, error) {
	n, err := s.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	agency, err := s.CreateAgency(ctx, DemoAgencyName)
	if err != nil {
		return false, err
	}
	subs := map[string]SubAccount{}
	for _, name := range DemoSubAccounts {
		sa, err := s.CreateSubAccount(ctx, agency.ID, name)
		if err != nil {
			return false, err
		}
		subs[name] = sa
	}
	for _, l := range DemoLogins {
		nu := NewUser{Email: l.Email, Password: password, Role: l.Role}
		switch {
		case l.Role.IsAgencyRole():
			nu.AgencyID = agency.ID
		case l.Role.IsAccountRole():
			nu.SubAccountID = subs[l.Where].ID
		}
		if _, err := s.CreateUser(ctx, nu); err != nil {
			return false, fmt.Errorf("models: seed %s: %w", l.Email, err)
		}
	}
	return true, nil
}
