package models

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// Principal is a signed-in user with their memberships: the scope of every tenant query.
type Principal struct {
	User         User
	AgencyRoles  map[int64]Role
	AccountRoles map[int64]Role
}

// IsSupport reports whether the user is platform support (read-only across tenants).
func (p Principal) IsSupport() bool { return p.User.PlatformRole == string(RoleSupport) }

// RoleIn returns the widest role p holds on sub-account sa, or false when p cannot reach it.
func (p Principal) RoleIn(sa SubAccountRef) (Role, bool) {
	if p.IsSupport() {
		return RoleSupport, true
	}
	best, ok := p.AgencyRoles[sa.AgencyID]
	if r, has := p.AccountRoles[sa.ID]; has && (!ok || r.powerHere() > best.powerHere()) {
		best, ok = r, true
	}
	return best, ok
}

// powerHere orders the roles by what they allow in one sub-account: unlike rank, an
// account admin, who may change its connections, comes before an agency user, who reads.
func (r Role) powerHere() int {
	switch r {
	case RoleAccountAdmin:
		return 3
	case RoleAgencyUser:
		return 2
	}
	return r.rank()
}

// CanManage reports whether p may change sub-account sa's connections (connect, choose
// assets, refresh, reauthenticate, disconnect): as an account admin of it, or an admin or
// owner of its agency. Unlike RoleIn it weighs every role p holds there, so an agency user
// who is also the sub-account's admin manages it.
func (p Principal) CanManage(sa SubAccountRef) bool {
	if p.IsSupport() {
		return false
	}
	if r, ok := p.AgencyRoles[sa.AgencyID]; ok && (r == RoleAgencyOwner || r == RoleAgencyAdmin) {
		return true
	}
	return p.AccountRoles[sa.ID] == RoleAccountAdmin
}

// HomeRole is the role shown outside any one sub-account: support, the widest agency role,
// or the widest sub-account role; empty for a user with no membership.
func (p Principal) HomeRole() Role {
	if p.IsSupport() {
		return RoleSupport
	}
	var best Role
	for _, m := range []map[int64]Role{p.AgencyRoles, p.AccountRoles} {
		for _, r := range m {
			if r.rank() > best.rank() {
				best = r
			}
		}
	}
	return best
}

func (p Principal) agencyIDs() []int64 { return sortedKeys(p.AgencyRoles) }

func (p Principal) accountIDs() []int64 { return sortedKeys(p.AccountRoles) }

func sortedKeys(m map[int64]Role) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// LoadPrincipal loads a user and their memberships.
func (s *Store) LoadPrincipal(ctx context.Context, userID int64) (Principal, error) {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return Principal{}, err
	}
	return s.principalOf(ctx, u)
}

// principalOf loads the memberships of u.
func (s *Store) principalOf(ctx context.Context, u User) (Principal, error) {
	var ms []Membership
	if err := s.db.WithContext(ctx).Where("user_id = ?", u.ID).Find(&ms).Error; err != nil {
		return Principal{}, dbError("load memberships", err)
	}
	p := Principal{User: u, AgencyRoles: map[int64]Role{}, AccountRoles: map[int64]Role{}}
	for _, m := range ms {
		switch {
		case m.AgencyID != nil:
			p.AgencyRoles[*m.AgencyID] = m.Role
		case m.SubAccountID != nil:
			p.AccountRoles[*m.SubAccountID] = m.Role
		}
	}
	return p, nil
}

// reachable narrows q to the sub-accounts p may see; table is the sub_accounts alias.
func (p Principal) reachable(q *gorm.DB, table string) *gorm.DB {
	if p.IsSupport() {
		return q
	}
	agencies, accounts := p.agencyIDs(), p.accountIDs()
	switch {
	case len(agencies) == 0 && len(accounts) == 0:
		return q.Where("1 = 0")
	case len(accounts) == 0:
		return q.Where(table+".agency_id IN ?", agencies)
	case len(agencies) == 0:
		return q.Where(table+".id IN ?", accounts)
	default:
		return q.Where(table+".agency_id IN ? OR "+table+".id IN ?", agencies, accounts)
	}
}

// subAccountRefs starts a query over the sub-accounts p can reach, joined to their agency
// and selecting the columns of a SubAccountRef.
func (s *Store) subAccountRefs(ctx context.Context, p Principal) *gorm.DB {
	q := s.db.WithContext(ctx).Table("sub_accounts").
		Joins("JOIN agencies ON agencies.id = sub_accounts.agency_id").
		Select("sub_accounts.id, sub_accounts.name, sub_accounts.agency_id, agencies.name AS agency_name")
	return p.reachable(q, "sub_accounts")
}

// SubAccountFor returns sub-account id with its agency's name and p's role in it, or
// ErrNotFound when it does not exist or p cannot reach it.
func (s *Store) SubAccountFor(ctx context.Context, p Principal, id int64) (SubAccountRef, Role, error) {
	var ref SubAccountRef
	if err := s.subAccountRefs(ctx, p).Where("sub_accounts.id = ?", id).Take(&ref).Error; err != nil {
		return SubAccountRef{}, "", dbError("load sub-account", err)
	}
	role, ok := p.RoleIn(ref)
	if !ok {
		return SubAccountRef{}, "", ErrNotFound
	}
	return ref, role, nil
}

// SubAccountRef is a sub-account as lists show it.
type SubAccountRef struct {
	ID         int64
	Name       string
	AgencyID   int64
	AgencyName string
}

// SubAccountSearch is one page of the switcher.
type SubAccountSearch struct {
	Results []SubAccountRef
	// Total counts every match, of which Results holds the first Limit.
	Total int64
}

// likePattern escapes s for a LIKE ... ESCAPE '\' substring match.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(strings.TrimSpace(s))) + "%"
}

// SearchSubAccounts returns the sub-accounts p can reach whose name or agency name contains
// query (case-insensitive), ordered by name, at most limit of them, with the total count.
func (s *Store) SearchSubAccounts(ctx context.Context, p Principal, query string, limit int) (SubAccountSearch, error) {
	base := func() *gorm.DB {
		q := s.subAccountRefs(ctx, p)
		if strings.TrimSpace(query) != "" {
			pat := likePattern(query)
			q = q.Where(`(LOWER(sub_accounts.name) LIKE ? ESCAPE '\' OR LOWER(agencies.name) LIKE ? ESCAPE '\')`, pat, pat)
		}
		return q
	}
	var out SubAccountSearch
	if err := base().Count(&out.Total).Error; err != nil {
		return out, dbError("count sub-accounts", err)
	}
	err := base().Order("LOWER(sub_accounts.name), sub_accounts.id").Limit(limit).Scan(&out.Results).Error
	return out, dbError("search sub-accounts", err)
}

// SubAccountHealth is one row of the agency overview: a sub-account and its connections by status.
type SubAccountHealth struct {
	SubAccountRef
	Counts map[Status]int
}

// Total is the number of connections of the sub-account.
func (h SubAccountHealth) Total() int {
	n := 0
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Overview returns every sub-account p can reach with its connection counts by status,
// in two queries whatever the number of sub-accounts.
func (s *Store) Overview(ctx context.Context, p Principal) ([]SubAccountHealth, error) {
	var refs []SubAccountRef
	err := s.subAccountRefs(ctx, p).Order("LOWER(agencies.name), agencies.id, LOWER(sub_accounts.name), sub_accounts.id").Scan(&refs).Error
	if err != nil {
		return nil, dbError("overview sub-accounts", err)
	}
	var counts []struct {
		SubAccountID int64
		Status       Status
		N            int
	}
	q := s.db.WithContext(ctx).Table("connections").
		Joins("JOIN sub_accounts ON sub_accounts.id = connections.sub_account_id")
	err = p.reachable(q, "sub_accounts").
		Select("connections.sub_account_id, connections.status, COUNT(*) AS n").
		Group("connections.sub_account_id, connections.status").Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("models: overview counts: %w", err)
	}
	byID := make(map[int64]map[Status]int, len(refs))
	out := make([]SubAccountHealth, len(refs))
	for i, r := range refs {
		out[i] = SubAccountHealth{SubAccountRef: r, Counts: map[Status]int{}}
		byID[r.ID] = out[i].Counts
	}
	for _, c := range counts {
		if m, ok := byID[c.SubAccountID]; ok {
			m[c.Status] = c.N
		}
	}
	return out, nil
}
