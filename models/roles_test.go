package models_test

import (
	"testing"

	"github.com/relink/relink/models"
)

func TestRoleInAndCanManageWeighEveryRole(t *testing.T) {
	t.Parallel()
	sa := models.SubAccountRef{ID: 7, AgencyID: 3}
	tests := []struct {
		name       string
		agency     models.Role
		account    models.Role
		support    bool
		wantRole   models.Role
		wantManage bool
	}{
		{name: "agency owner", agency: models.RoleAgencyOwner, wantRole: models.RoleAgencyOwner, wantManage: true},
		{name: "agency admin", agency: models.RoleAgencyAdmin, wantRole: models.RoleAgencyAdmin, wantManage: true},
		{name: "agency user reads", agency: models.RoleAgencyUser, wantRole: models.RoleAgencyUser},
		{name: "account admin", account: models.RoleAccountAdmin, wantRole: models.RoleAccountAdmin, wantManage: true},
		{name: "account user reads", account: models.RoleAccountUser, wantRole: models.RoleAccountUser},
		{name: "agency user who is the sub-account's admin", agency: models.RoleAgencyUser, account: models.RoleAccountAdmin,
			wantRole: models.RoleAccountAdmin, wantManage: true},
		{name: "agency admin who is also an account user", agency: models.RoleAgencyAdmin, account: models.RoleAccountUser,
			wantRole: models.RoleAgencyAdmin, wantManage: true},
		{name: "support reads", support: true, wantRole: models.RoleSupport},
	}
	for _, tt := range tests {
		p := models.Principal{AgencyRoles: map[int64]models.Role{}, AccountRoles: map[int64]models.Role{}}
		if tt.support {
			p.User.PlatformRole = string(models.RoleSupport)
		}
		if tt.agency != "" {
			p.AgencyRoles[sa.AgencyID] = tt.agency
		}
		if tt.account != "" {
			p.AccountRoles[sa.ID] = tt.account
		}
		if role, ok := p.RoleIn(sa); !ok || role != tt.wantRole {
			t.Errorf("%s: RoleIn = %s, %v; want %s", tt.name, role, ok, tt.wantRole)
		}
		if got := p.CanManage(sa); got != tt.wantManage {
			t.Errorf("%s: CanManage = %v, want %v", tt.name, got, tt.wantManage)
		}
	}
}
