package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/ncruces/go-sqlite3/driver" // the "sqlite3" database/sql driver, for insertAgencyUnchecked

	"github.com/relink/relink/models"
)

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		r := command(t, fakeEnv{}, "", arg)
		if r.err != nil || !strings.HasPrefix(r.stdout, "relink ") || strings.TrimSpace(r.stdout) == "relink" {
			t.Errorf("%s: printed %q, err %v", arg, r.stdout, r.err)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown command", args: []string{"srve"}, want: `unknown command "srve"`},
		{name: "serve with an unknown flag", args: []string{"serve", "--port=80"}, want: "serve: "},
		{name: "migrate with arguments", args: []string{"migrate", "now"}, want: "migrate takes no arguments"},
		{name: "user without add", args: []string{"user"}, want: "usage: relink user add"},
		{name: "user with another verb", args: []string{"user", "delete"}, want: "usage: relink user add"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := command(t, sqliteEnv(t), "", tt.args...)
			var ue *usageError
			if !errors.As(r.err, &ue) {
				t.Fatalf("got %v (%T), want a *usageError", r.err, r.err)
			}
			if !strings.Contains(r.err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", r.err, tt.want)
			}
		})
	}
	if r := command(t, fakeEnv{}, "", "help"); r.err != nil || !strings.Contains(r.stdout, "user add") {
		t.Errorf("help: %q, %v", r.stdout, r.err)
	}
}

var appliedRE = regexp.MustCompile(`^applied (\d+) migration\(s\); the (sqlite|postgres) database is up to date\n$`)

func TestMigrate(t *testing.T) {
	env := databaseEnv(t)
	r := command(t, env, "", "migrate")
	if r.err != nil {
		t.Fatal(r.err)
	}
	m := appliedRE.FindStringSubmatch(r.stdout)
	if m == nil || m[1] == "0" {
		t.Fatalf("first migrate printed %q, want a count of applied migrations", r.stdout)
	}
	if env["DATABASE_URL"] == "" {
		if _, err := os.Stat(filepath.Join(env["DATA_DIR"], "relink.db")); err != nil {
			t.Errorf("no database in DATA_DIR: %v", err)
		}
	}
	if err := openTestStore(t, env).CheckMigrated(context.Background()); err != nil {
		t.Errorf("after migrate: %v", err)
	}
	r = command(t, env, "", "migrate")
	if r.err != nil || !strings.HasPrefix(r.stdout, "applied 0 migration(s)") {
		t.Errorf("second migrate printed %q, err %v; want nothing left to apply", r.stdout, r.err)
	}
}

func TestUserAddNeedsAMigratedDatabase(t *testing.T) {
	r := command(t, databaseEnv(t), "a long enough password\n", "user", "add", "--email", "a@b.test", "--role", "support")
	if !errors.Is(r.err, models.ErrNotMigrated) || !strings.Contains(r.err.Error(), "relink migrate") {
		t.Errorf("got %v, want ErrNotMigrated telling to run relink migrate", r.err)
	}
}

func TestUserAdd(t *testing.T) {
	ctx := context.Background()
	env := databaseEnv(t)
	if r := command(t, env, "", "migrate"); r.err != nil {
		t.Fatal(r.err)
	}
	store := openTestStore(t, env)
	agency, err := store.CreateAgency(ctx, "Acme Agency")
	if err != nil {
		t.Fatal(err)
	}
	client, err := store.CreateSubAccount(ctx, agency.ID, "Acme Client")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateUser(ctx, models.NewUser{Email: "taken@acme.test", Password: "an existing password"}); err != nil {
		t.Fatal(err)
	}
	agencyID := strconv.FormatInt(agency.ID, 10)
	clientID := strconv.FormatInt(client.ID, 10)
	const password = "correct horse battery staple"

	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantErr  string // empty: the user is created
		usage    bool   // the error is a usage error (exit status 2)
		wantRole models.Role
	}{
		{name: "agency owner by agency name", args: []string{"--email", "owner@acme.test", "--role", "agency_owner", "--agency", "Acme Agency", "--name", "Olive Owner"},
			stdin: password + "\n", wantRole: models.RoleAgencyOwner},
		{name: "agency admin by agency id", args: []string{"--email", "admin@acme.test", "--role", "agency_admin", "--agency", agencyID},
			stdin: password + "\n", wantRole: models.RoleAgencyAdmin},
		{name: "agency user, password without newline", args: []string{"--email", "staff@acme.test", "--role", "agency_user", "--agency", "Acme Agency"},
			stdin: password, wantRole: models.RoleAgencyUser},
		{name: "account admin, password with CRLF", args: []string{"--email", "boss@client.test", "--role", "account_admin", "--sub-account", clientID},
			stdin: password + "\r\n", wantRole: models.RoleAccountAdmin},
		{name: "account user, email normalised", args: []string{"--email", "  Clerk@Client.TEST ", "--role", "account_user", "--sub-account", clientID},
			stdin: password + "\nsecond line is ignored\n", wantRole: models.RoleAccountUser},
		{name: "support", args: []string{"--email", "help@relink.test", "--role", "support"},
			stdin: password + "\n", wantRole: models.RoleSupport},

		{name: "short password", args: []string{"--email", "short@acme.test", "--role", "support"},
			stdin: "short\n", wantErr: "at least 10 characters", usage: true},
		{name: "no password", args: []string{"--email", "empty@acme.test", "--role", "support"},
			wantErr: "at least 10 characters", usage: true},
		{name: "password as a flag is refused", args: []string{"--email", "flag@acme.test", "--role", "support", "--password", password},
			stdin: password + "\n", wantErr: "flag provided but not defined: -password", usage: true},
		{name: "duplicate email", args: []string{"--email", "taken@acme.test", "--role", "support"},
			stdin: password + "\n", wantErr: "already exists", usage: true},
		{name: "duplicate email in other case", args: []string{"--email", "TAKEN@acme.test", "--role", "support"},
			stdin: password + "\n", wantErr: "already exists", usage: true},
		{name: "unknown agency name", args: []string{"--email", "lost@acme.test", "--role", "agency_user", "--agency", "No Such Agency"},
			stdin: password + "\n", wantErr: `no agency named "No Such Agency"`, usage: true},
		{name: "unknown agency id", args: []string{"--email", "lost@acme.test", "--role", "agency_user", "--agency", "999999"},
			stdin: password + "\n", wantErr: `no agency with id or name "999999"`, usage: true},
		{name: "unknown sub-account", args: []string{"--email", "lost@acme.test", "--role", "account_user", "--sub-account", "999999"},
			stdin: password + "\n", wantErr: "no sub-account with id 999999", usage: true},
		{name: "agency role without agency", args: []string{"--email", "lost@acme.test", "--role", "agency_owner"},
			stdin: password + "\n", wantErr: "needs --agency", usage: true},
		{name: "account role without sub-account", args: []string{"--email", "lost@acme.test", "--role", "account_admin"},
			stdin: password + "\n", wantErr: "needs --sub-account", usage: true},
		{name: "unknown role", args: []string{"--email", "lost@acme.test", "--role", "superuser"},
			stdin: password + "\n", wantErr: `--role "superuser"`, usage: true},
		{name: "no email", args: []string{"--role", "support"},
			stdin: password + "\n", wantErr: "--email is required", usage: true},
		{name: "not an email", args: []string{"--email", "lost-at-acme", "--role", "support"},
			stdin: password + "\n", wantErr: "not an email address", usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := command(t, env, tt.stdin, append([]string{"user", "add"}, tt.args...)...)
			email := ""
			for i, a := range tt.args {
				if a == "--email" {
					email = tt.args[i+1]
				}
			}
			if tt.wantErr != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error saying %q", r.err, tt.wantErr)
				}
				var ue *usageError
				if errors.As(r.err, &ue) != tt.usage {
					t.Errorf("error %q: usage error %v, want %v", r.err, !tt.usage, tt.usage)
				}
				if strings.Contains(r.err.Error(), password) {
					t.Errorf("error %q repeats the password", r.err)
				}
				if email != "" && !strings.Contains(tt.name, "duplicate") {
					if _, err := store.UserByEmail(ctx, email); !errors.Is(err, models.ErrNotFound) {
						t.Errorf("a failed user add left user %s behind (%v)", email, err)
					}
				}
				return
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !strings.HasPrefix(r.stdout, "created user ") || !strings.Contains(r.stdout, string(tt.wantRole)) {
				t.Errorf("printed %q", r.stdout)
			}
			if strings.Contains(r.stdout+r.stderr, password) {
				t.Error("the password was printed")
			}
			u, err := store.Authenticate(ctx, email, password)
			if err != nil {
				t.Fatalf("the new user cannot sign in: %v", err)
			}
			p, err := store.LoadPrincipal(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			ref := models.SubAccountRef{ID: client.ID, AgencyID: agency.ID}
			switch {
			case tt.wantRole == models.RoleSupport:
				if !p.IsSupport() || len(p.AgencyRoles)+len(p.AccountRoles) != 0 {
					t.Errorf("support user: %+v", p)
				}
			case tt.wantRole.IsAgencyRole():
				if p.AgencyRoles[agency.ID] != tt.wantRole || len(p.AccountRoles) != 0 || p.IsSupport() {
					t.Errorf("agency roles %v, account roles %v", p.AgencyRoles, p.AccountRoles)
				}
			default:
				if p.AccountRoles[client.ID] != tt.wantRole || len(p.AgencyRoles) != 0 || p.IsSupport() {
					t.Errorf("agency roles %v, account roles %v", p.AgencyRoles, p.AccountRoles)
				}
			}
			if role, ok := p.RoleIn(ref); !ok || role != tt.wantRole {
				t.Errorf("role in Acme Client: %q, %v; want %q", role, ok, tt.wantRole)
			}
		})
	}
	if u, err := store.UserByEmail(ctx, "owner@acme.test"); err != nil || u.Name != "Olive Owner" {
		t.Errorf("--name was not kept: %+v, %v", u, err)
	}
}

func TestUserAddRefusesAStrayScopeFlag(t *testing.T) {
	env := sqliteEnv(t)
	command(t, env, "", "migrate")
	tests := []struct {
		name string
		args []string
	}{
		{name: "agency with an account role", args: []string{"--role", "account_admin", "--sub-account", "1", "--agency", "1"}},
		{name: "sub-account with an agency role", args: []string{"--role", "agency_admin", "--agency", "1", "--sub-account", "1"}},
		{name: "agency for support", args: []string{"--role", "support", "--agency", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"user", "add", "--email", "x@y.test"}, tt.args...)
			res := command(t, env, "a long enough password\n", args...)
			var ue *usageError
			if !errors.As(res.err, &ue) {
				t.Fatalf("err = %v, want a usage error", res.err)
			}
		})
	}
}

func TestAgencyAndSubAccountAdd(t *testing.T) {
	env := sqliteEnv(t).with("ENVIRONMENT", "production")
	command(t, env, "", "migrate")
	if res := command(t, env, "", "agency", "add", "Acme Agency"); res.err != nil || !strings.Contains(res.stdout, "created agency Acme Agency") {
		t.Fatalf("agency add: %v %q", res.err, res.stdout)
	}
	if res := command(t, env, "", "sub-account", "add", "--agency", "Acme Agency", "Client One"); res.err != nil || !strings.Contains(res.stdout, "created sub-account Client One") {
		t.Fatalf("sub-account add: %v %q", res.err, res.stdout)
	}
	if res := command(t, env, "", "sub-account", "add", "--agency", "Acme Agency", "Client One"); res.err == nil || !strings.Contains(res.err.Error(), "already named") {
		t.Fatalf("a duplicate sub-account: %v", res.err)
	}
	res := command(t, env, "a long enough password\n", "user", "add", "--email", "boss@acme.test", "--role", "agency_owner", "--agency", "Acme Agency")
	if res.err != nil {
		t.Fatalf("the first owner of a new agency: %v", res.err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{name: "agency without a name", args: []string{"agency", "add"}},
		{name: "agency with two names", args: []string{"agency", "add", "a", "b"}},
		{name: "sub-account without an agency", args: []string{"sub-account", "add", "X"}},
		{name: "sub-account without a name", args: []string{"sub-account", "add", "--agency", "Acme Agency"}},
		{name: "user with a bad email", args: []string{"user", "add", "--email", "not-an-email", "--role", "support"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ue *usageError
			if res := command(t, env, "a long enough password\n", tt.args...); !errors.As(res.err, &ue) {
				t.Fatalf("err = %v, want a usage error", res.err)
			}
		})
	}
	if res := command(t, env, "", "sub-account", "add", "--agency", "Nope", "X"); res.err == nil || !strings.Contains(res.err.Error(), "no agency") {
		t.Fatalf("an unknown agency: %v", res.err)
	}
}

// rawDB opens the database env points at below the store, for what the store will not do
// or does not show; it is closed when the test ends.
func rawDB(t *testing.T, env fakeEnv) *sql.DB {
	t.Helper()
	driverName, dsn := "sqlite3", models.SQLiteDSN(filepath.Join(env["DATA_DIR"], "relink.db"))
	if env["DATABASE_URL"] != "" {
		driverName, dsn = "pgx", env["DATABASE_URL"]
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// insertAgencyUnchecked adds an agency straight to the database env points at, as versions
// without the name checks could, so that tests can build an old database's duplicates.
func insertAgencyUnchecked(t *testing.T, env fakeEnv, name string) int64 {
	t.Helper()
	var id int64
	now := time.Now().UTC()
	err := rawDB(t, env).QueryRow(`INSERT INTO agencies (name, created_at, updated_at) VALUES ($1, $2, $3) RETURNING id`, name, now, now).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Every mistake in what the operator typed exits with status 2 and is named by the
// subcommand that was run.
func TestTenantCommandsRefuseBadInput(t *testing.T) {
	env := databaseEnv(t)
	if r := command(t, env, "", "migrate"); r.err != nil {
		t.Fatal(r.err)
	}
	for _, args := range [][]string{{"agency", "add", "Acme Agency"}, {"sub-account", "add", "--agency", "Acme Agency", "Client One"}} {
		if r := command(t, env, "", args...); r.err != nil {
			t.Fatal(r.err)
		}
	}
	twin1 := insertAgencyUnchecked(t, env, "Twin Agency")
	twin2 := insertAgencyUnchecked(t, env, "Twin Agency")
	ids := fmt.Sprintf("ids %d, %d", twin1, twin2)
	const password = "a long enough password\n"
	tests := []struct {
		name    string
		args    []string
		wantErr []string // all in the error, which must be a usage error
	}{
		{name: "agency add a taken name", args: []string{"agency", "add", " acme AGENCY "},
			wantErr: []string{"agency add: ", `already named "Acme Agency"`}},
		{name: "agency add a name with an escape sequence", args: []string{"agency", "add", "Evil\x1b[2J Agency"},
			wantErr: []string{"agency add: the name has a control character"}},
		{name: "agency add a name with a newline", args: []string{"agency", "add", "Evil\nAgency"},
			wantErr: []string{"agency add: the name has a control character"}},
		{name: "agency add a name too long", args: []string{"agency", "add", strings.Repeat("a", models.MaxNameLength+1)},
			wantErr: []string{"agency add: the name is longer than 200 characters"}},
		{name: "agency add with a stray argument", args: []string{"agency", "add", "New Agency", "extra"},
			wantErr: []string{"usage: relink agency add NAME"}},
		{name: "sub-account add a taken name", args: []string{"sub-account", "add", "--agency", "Acme Agency", "client one"},
			wantErr: []string{"sub-account add: ", `already named "Client One"`}},
		{name: "sub-account add a name with a control character", args: []string{"sub-account", "add", "--agency", "Acme Agency", "Client\x00Two"},
			wantErr: []string{"sub-account add: the name has a control character"}},
		{name: "sub-account add to an unknown agency", args: []string{"sub-account", "add", "--agency", "Nope", "X"},
			wantErr: []string{`sub-account add: no agency named "Nope"`}},
		{name: "sub-account add to an unknown agency id", args: []string{"sub-account", "add", "--agency", "999999", "X"},
			wantErr: []string{`sub-account add: no agency with id or name "999999"`}},
		{name: "sub-account add to an ambiguous agency name", args: []string{"sub-account", "add", "--agency", "Twin Agency", "X"},
			wantErr: []string{"sub-account add: ", ids, "--agency ID"}},
		{name: "sub-account add with a stray argument", args: []string{"sub-account", "add", "--agency", "Acme Agency", "X", "Y"},
			wantErr: []string{"usage: relink sub-account add"}},
		{name: "user add to an ambiguous agency name", args: []string{"user", "add", "--email", "a@b.test", "--role", "agency_user", "--agency", "twin agency"},
			wantErr: []string{"user add: ", ids, "--agency ID"}},
		{name: "user add to an unknown agency", args: []string{"user", "add", "--email", "a@b.test", "--role", "agency_user", "--agency", "Nope"},
			wantErr: []string{`user add: no agency named "Nope"`}},
		{name: "user add to an unknown sub-account", args: []string{"user", "add", "--email", "a@b.test", "--role", "account_user", "--sub-account", "999999"},
			wantErr: []string{"user add: no sub-account with id 999999"}},
		{name: "user add with a stray argument", args: []string{"user", "add", "--email", "a@b.test", "--role", "support", "extra"},
			wantErr: []string{`user add: unexpected argument "extra"`}},
		{name: "version with a stray argument", args: []string{"version", "extra"},
			wantErr: []string{"version takes no arguments"}},
		{name: "help with a stray argument", args: []string{"help", "extra"},
			wantErr: []string{"help takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := command(t, env, password, tt.args...)
			var ue *usageError
			if !errors.As(r.err, &ue) {
				t.Fatalf("got %v (%T), want a usage error", r.err, r.err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(r.err.Error(), want) {
					t.Errorf("error %q does not say %q", r.err, want)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
		})
	}
	if _, err := openTestStore(t, env).UserByEmail(context.Background(), "a@b.test"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("a refused user add created the user (%v)", err)
	}
}
