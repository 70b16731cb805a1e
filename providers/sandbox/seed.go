package sandbox

import "fmt"

// The seeded users are deterministic so tests and docs can name them.
const (
	// MetaAgencyUser has 3 Pages (one with Instagram), 4 ad accounts and datasets.
	MetaAgencyUser = "10000000000001"
	// MetaBulkUser has 250 ad accounts, to exercise paging.
	MetaBulkUser = "10000000000002"
	// MetaSmallUser has one Page and one ad account.
	MetaSmallUser = "10000000000003"
	// LinkedInMember administers 2 organizations and uses 2 ad accounts.
	LinkedInMember = "lnk-dana-0001"
)

type metaUser struct {
	ID, Name, FirstName, LastName, Email string
	Pages                                []*metaPage
	AdAccounts                           []*metaAdAccount
}

type metaPage struct {
	ID, Name, Category string
	Tasks              []string
	Followers          int
	IG                 *metaIG
}

type metaIG struct {
	ID, Username, Name string
	Followers          int
}

type metaAdAccount struct {
	ID                 string // numeric, without act_
	Name, Currency, TZ string
	Status             int
	DisableReason      int
	TOSAccepted        bool
	SpendBase          int64 // minor units at sandbox start
	SpendPerHour       int64
	SpendCap, Balance  int64
	BusinessID         string
	BusinessName       string
	Tasks              []string
	Funding            bool
	Datasets           []*metaDataset
}

type metaDataset struct {
	ID, Name string
	// FiredHoursAgo is how long before sandbox start the pixel last fired.
	FiredHoursAgo int
}

type linkedInMember struct {
	ID, Name, GivenName, FamilyName, Email string
	Orgs                                   []*linkedInOrg
	AdAccounts                             []*linkedInAdAccount
}

type linkedInOrg struct {
	ID, Name, Vanity, Role string
}

type linkedInAdAccount struct {
	ID, Name, Currency, Status, Role, OrgID string
}

var allTasks = []string{"ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"}

func seedMeta() []*metaUser {
	agency := &metaUser{
		ID: MetaAgencyUser, Name: "Avery Agency", FirstName: "Avery", LastName: "Agency",
		Email: "avery@agency.example",
		Pages: []*metaPage{
			{ID: "110000000000001", Name: "Northwind Bakery", Category: "Bakery", Tasks: allTasks, Followers: 4210,
				IG: &metaIG{ID: "178000000000001", Username: "northwindbakery", Name: "Northwind Bakery", Followers: 9800}},
			{ID: "110000000000002", Name: "Harbor Dental", Category: "Dentist & Dental Office", Tasks: []string{"ADVERTISE", "ANALYZE", "CREATE_CONTENT"}, Followers: 730},
			{ID: "110000000000003", Name: "Lumen Yoga Studio", Category: "Yoga Studio", Tasks: allTasks, Followers: 1288},
		},
		AdAccounts: []*metaAdAccount{
			{ID: "200000000000001", Name: "Northwind Bakery Ads", Currency: "USD", TZ: "America/Los_Angeles", Status: 1,
				TOSAccepted: true, SpendBase: 1254300, SpendPerHour: 125, SpendCap: 5000000, Balance: 2300,
				BusinessID: "900000000000001", BusinessName: "Avery Agency Ltd", Tasks: []string{"MANAGE", "ADVERTISE", "ANALYZE"}, Funding: true,
				Datasets: []*metaDataset{{ID: "300000000000001", Name: "Northwind Bakery Pixel", FiredHoursAgo: 2}}},
			{ID: "200000000000002", Name: "Harbor Dental EU", Currency: "EUR", TZ: "Europe/Berlin", Status: 1,
				TOSAccepted: true, SpendBase: 88000, SpendPerHour: 40, SpendCap: 0, Balance: 0,
				BusinessID: "900000000000001", BusinessName: "Avery Agency Ltd", Tasks: []string{"ADVERTISE", "ANALYZE"}, Funding: true,
				Datasets: []*metaDataset{{ID: "300000000000002", Name: "Harbor Dental Dataset", FiredHoursAgo: 30}}},
			{ID: "200000000000003", Name: "Lumen Yoga (disabled)", Currency: "GBP", TZ: "Europe/London", Status: 2,
				DisableReason: 1, TOSAccepted: true, SpendBase: 43210, SpendPerHour: 0,
				Tasks: []string{"MANAGE", "ADVERTISE", "ANALYZE"}, Funding: false},
			{ID: "200000000000004", Name: "Pop-up Shop (terms not accepted)", Currency: "CAD", TZ: "America/Toronto", Status: 1,
				TOSAccepted: false, SpendBase: 0, SpendPerHour: 0, Tasks: []string{"MANAGE", "ADVERTISE", "ANALYZE"}, Funding: true},
		},
	}
	bulk := &metaUser{ID: MetaBulkUser, Name: "Blake Bulk", FirstName: "Blake", LastName: "Bulk", Email: "blake@bulk.example"}
	currencies := []string{"USD", "EUR", "GBP", "JPY", "BRL"}
	for i := 1; i <= 250; i++ {
		bulk.AdAccounts = append(bulk.AdAccounts, &metaAdAccount{
			ID: fmt.Sprintf("2100000000%05d", i), Name: fmt.Sprintf("Bulk Account %03d", i),
			Currency: currencies[i%len(currencies)], TZ: "Etc/UTC", Status: 1, TOSAccepted: true,
			SpendBase: int64(i) * 1000, SpendPerHour: int64(i % 7), Tasks: []string{"ADVERTISE", "ANALYZE"}, Funding: true,
		})
	}
	small := &metaUser{ID: MetaSmallUser, Name: "Casey Small", FirstName: "Casey", LastName: "Small", Email: "casey@small.example",
		Pages: []*metaPage{{ID: "120000000000001", Name: "Casey's Corner Cafe", Category: "Cafe", Tasks: allTasks, Followers: 112}},
		AdAccounts: []*metaAdAccount{{ID: "220000000000001", Name: "Casey's Cafe Ads", Currency: "AUD", TZ: "Australia/Sydney", Status: 1,
			TOSAccepted: true, SpendBase: 5000, SpendPerHour: 10, SpendCap: 100000, Tasks: []string{"MANAGE", "ADVERTISE", "ANALYZE"}, Funding: true}},
	}
	return []*metaUser{agency, bulk, small}
}

func seedLinkedIn() []*linkedInMember {
	return []*linkedInMember{{
		ID: LinkedInMember, Name: "Dana Okafor", GivenName: "Dana", FamilyName: "Okafor", Email: "dana@agency.example",
		Orgs: []*linkedInOrg{
			{ID: "5100001", Name: "Northwind Bakery", Vanity: "northwind-bakery", Role: "ADMINISTRATOR"},
			{ID: "5100002", Name: "Harbor Dental", Vanity: "harbor-dental", Role: "ADMINISTRATOR"},
		},
		AdAccounts: []*linkedInAdAccount{
			{ID: "5200001", Name: "Northwind Sponsored Content", Currency: "USD", Status: "ACTIVE", Role: "ACCOUNT_MANAGER", OrgID: "5100001"},
			{ID: "5200002", Name: "Harbor Dental EU", Currency: "EUR", Status: "ACTIVE", Role: "CAMPAIGN_MANAGER", OrgID: "5100002"},
		},
	}}
}

// LinkedInBulkMember administers 60 organizations and uses 120 ad accounts, to
// exercise paging and batching. seedLinkedIn leaves it out: the state API, the
// panel and the login dialog list the default members, whose number tests pin.
const LinkedInBulkMember = "lnk-bulk-0002"

// seedLinkedInBulk builds LinkedInBulkMember. Each organization has two of the ad
// accounts; accounts 7, 17, … are CANCELED and 9, 19, … DRAFT, so that a list
// holds more than ACTIVE ones.
func seedLinkedInBulk() *linkedInMember {
	m := &linkedInMember{ID: LinkedInBulkMember, Name: "Blair Bulk", GivenName: "Blair", FamilyName: "Bulk",
		Email: "blair@bulk.example"}
	for i := 1; i <= 60; i++ {
		m.Orgs = append(m.Orgs, &linkedInOrg{ID: fmt.Sprintf("53%05d", i), Name: fmt.Sprintf("Bulk Organization %02d", i),
			Vanity: fmt.Sprintf("bulk-organization-%02d", i), Role: "ADMINISTRATOR"})
	}
	currencies := []string{"USD", "EUR", "GBP", "JPY", "BRL"}
	roles := []string{"ACCOUNT_BILLING_ADMIN", "ACCOUNT_MANAGER", "CAMPAIGN_MANAGER", "CREATIVE_MANAGER", "VIEWER"}
	for i := 1; i <= 120; i++ {
		status := "ACTIVE"
		switch i % 10 {
		case 7:
			status = "CANCELED"
		case 9:
			status = "DRAFT"
		}
		m.AdAccounts = append(m.AdAccounts, &linkedInAdAccount{ID: fmt.Sprintf("54%05d", i), Name: fmt.Sprintf("Bulk Ad Account %03d", i),
			Currency: currencies[i%len(currencies)], Status: status, Role: roles[i%len(roles)], OrgID: fmt.Sprintf("53%05d", (i+1)/2)})
	}
	return m
}
