package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
	"github.com/relink/relink/providers"
)

// The store hides its database handle, so statements are counted below it: on SQLite by a
// trace installed on every new connection, on PostgreSQL by a proxy that reads the wire
// protocol. Either way only statements sent while the counter is armed are counted, so
// the tests that use it must not run in parallel.

// statementCounter counts the SQL statements the database receives while armed.
type statementCounter struct {
	armed atomic.Bool
	n     atomic.Int64
}

// count returns how many statements fn made the database run.
func (c *statementCounter) count(fn func()) int {
	c.n.Store(0)
	c.armed.Store(true)
	fn()
	c.armed.Store(false)
	return int(c.n.Load())
}

func (c *statementCounter) add() {
	if c.armed.Load() {
		c.n.Add(1)
	}
}

var (
	sqliteCounter     = &statementCounter{}
	sqliteCounterOnce sync.Once
)

// countStatements returns a counter for the stores the test opens after this call.
func countStatements(t *testing.T) *statementCounter {
	t.Helper()
	if dsn := os.Getenv(storetest.EnvPostgres); dsn != "" {
		c := &statementCounter{}
		t.Setenv(storetest.EnvPostgres, postgresCountingProxy(t, dsn, c))
		return c
	}
	installSQLiteTrace()
	return sqliteCounter
}

// installSQLiteTrace counts, on every SQLite connection opened from now on, each statement
// in sqliteCounter and in the counter of the connection's database file, if one was
// registered (countingStore). SQLite runs statements prepared through the driver with a
// trace callback; those the driver runs with sqlite3_exec (BEGIN, COMMIT, Exec without
// arguments) are not seen, which leaves every read a page makes.
func installSQLiteTrace() {
	sqliteCounterOnce.Do(func() {
		sqlite3.AutoExtension(func(conn *sqlite3.Conn) error {
			own := sqliteFileCounter(conn.Filename("main").String())
			return conn.Trace(sqlite3.TRACE_STMT, func(sqlite3.TraceEvent, any, any) error {
				sqliteCounter.add()
				if own != nil {
					own.add()
				}
				return nil
			})
		})
	})
}

// sqliteFileCounters maps a SQLite database file to the counter of the test that opened it.
var sqliteFileCounters sync.Map // path → *statementCounter

func sqliteFileCounter(path string) *statementCounter {
	if c, ok := sqliteFileCounters.Load(path); ok {
		return c.(*statementCounter)
	}
	return nil
}

// countingStore opens a fresh, migrated store (SQLite, or PostgreSQL with dsn) whose
// statements, and only its, a counter of its own counts: unlike countStatements it can
// serve tests that run in parallel. The store is closed (and its schema dropped) when tb
// ends.
func countingStore(tb testing.TB, dsn string, clock providers.Clock) (*models.Store, *statementCounter) {
	tb.Helper()
	ctx := context.Background()
	c := &statementCounter{}
	oo := models.OpenOptions{Clock: clock, CheapPasswordHashes: true}
	if dsn != "" {
		oo.URL = storetest.PostgresSchema(tb, postgresCountingProxy(tb, dsn, c))
	} else {
		installSQLiteTrace()
		oo.SQLitePath = filepath.Join(tb.TempDir(), "relink.db")
		sqliteFileCounters.Store(oo.SQLitePath, c)
		tb.Cleanup(func() { sqliteFileCounters.Delete(oo.SQLitePath) })
	}
	store, err := models.Open(ctx, oo)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	// The counter must see this store's statements: one read, counted, proves it.
	if n := c.count(func() { _, _ = store.CountUsers(ctx) }); n == 0 {
		tb.Fatal("the statement counter does not see the store's statements")
	}
	return store, c
}

// postgresCountingProxy forwards loopback connections to the server of dsn, counting each
// Execute and simple Query message but pgx's "-- ping", and returns a DSN that goes
// through it. TLS would hide the messages, so the proxied DSN disables it.
func postgresCountingProxy(t testing.TB, dsn string, c *statementCounter) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", storetest.EnvPostgres, err)
	}
	upstream := u.Host
	if u.Port() == "" {
		upstream = net.JoinHostPort(u.Hostname(), "5432")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			go proxyPostgres(client, upstream, c)
		}
	}()
	u.Host = ln.Addr().String()
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	return u.String()
}

func proxyPostgres(client net.Conn, upstream string, c *statementCounter) {
	defer client.Close()
	server, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		_, _ = io.Copy(client, server)
		_ = client.Close()
	}()
	r := bufio.NewReader(client)
	// Start-up messages carry no type byte; an SSL or GSS encryption request (refused, as
	// sslmode=disable never sends one) would be followed by another.
	for {
		var head [8]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return
		}
		n, code := binary.BigEndian.Uint32(head[:4]), binary.BigEndian.Uint32(head[4:])
		if n < 8 {
			return
		}
		body := make([]byte, n-8)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if _, err := server.Write(append(head[:], body...)); err != nil {
			return
		}
		if code != 80877103 && code != 80877104 {
			break
		}
	}
	for {
		var head [5]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(head[1:])
		if n < 4 {
			return
		}
		body := make([]byte, n-4)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if head[0] == 'E' || (head[0] == 'Q' && !bytes.HasPrefix(body, []byte("--"))) {
			c.add()
		}
		if _, err := server.Write(append(head[:], body...)); err != nil {
			return
		}
	}
}

// growAgency grows the demo agency of store to n sub-accounts, each with one connection,
// and gives Bluebird Bakery perBluebird connections in all, of every status.
func growAgency(tb testing.TB, store *models.Store, n, perBluebird int) {
	tb.Helper()
	ctx := context.Background()
	agency, err := store.AgencyByName(ctx, models.DemoAgencyName)
	if err != nil {
		tb.Fatal(err)
	}
	support, err := store.UserByEmail(ctx, "support@relink.test")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := store.LoadPrincipal(ctx, support.ID)
	if err != nil {
		tb.Fatal(err)
	}
	demo, err := store.SearchSubAccounts(ctx, p, models.DemoAgencyName, 100)
	if err != nil {
		tb.Fatal(err)
	}
	connect := func(subAccountID int64, i int) {
		tb.Helper()
		c := models.Connection{Provider: "meta", ExternalUserID: fmt.Sprintf("user-%d", i),
			ExternalUserName: fmt.Sprintf("User %d", i), Status: models.Statuses[i%len(models.Statuses)]}
		if _, err := store.CreateConnection(ctx, subAccountID, c); err != nil {
			tb.Fatal(err)
		}
	}
	for _, sa := range demo.Results {
		if sa.Name != "Bluebird Bakery" {
			connect(sa.ID, 0)
			continue
		}
		for i := 0; i < perBluebird; i++ {
			connect(sa.ID, i)
		}
	}
	for i := len(demo.Results); i < n; i++ {
		sa, err := store.CreateSubAccount(ctx, agency.ID, fmt.Sprintf("Client %04d", i))
		if err != nil {
			tb.Fatal(err)
		}
		connect(sa.ID, i)
	}
}

// TestPagesRunAFixedNumberOfQueries proves there is no N+1: every page runs as many
// statements for an agency of 1,000 sub-accounts as for one of 3.
func TestPagesRunAFixedNumberOfQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 1,000 sub-accounts")
	}
	counter := countStatements(t)
	small := newSite(t)
	growAgency(t, small.store, 3, 1)
	big := newSite(t)
	growAgency(t, big.store, 1000, 30)

	type request struct {
		name  string
		path  string // %d is Bluebird Bakery's id
		htmx  bool
		check func(t *testing.T, p page, subAccounts int)
	}
	requests := []request{
		{name: "overview", path: "/agency", check: func(t *testing.T, p page, subAccounts int) {
			if got := p.doc.Find("[data-testid=overview-row]").Length(); got != subAccounts {
				t.Errorf("the overview has %d rows, want %d", got, subAccounts)
			}
		}},
		{name: "connections", path: "/accounts/%d/connections"},
		{name: "history", path: "/accounts/%d/history"},
		{name: "switcher search", path: "/switch?q=e", htmx: true, check: func(t *testing.T, p page, _ int) {
			if p.doc.Find("a.switcher-item").Length() == 0 {
				t.Error("the switcher found nothing")
			}
		}},
		{name: "switcher without a query", path: "/switch", htmx: true},
		{name: "switch page without JavaScript", path: "/switch?q=e"},
	}
	sites := []struct {
		site        *site
		subAccounts int
	}{{small, 3}, {big, 1000}}

	for _, email := range []string{"owner@northwind.test", "support@relink.test"} {
		browsers := []*browser{small.signedIn(email), big.signedIn(email)}
		for _, rq := range requests {
			t.Run(email+" "+rq.name, func(t *testing.T) {
				var counts [2]int
				for i, w := range sites {
					b := browsers[i]
					path := rq.path
					if strings.Contains(path, "%d") {
						path = fmt.Sprintf(path, w.site.subs["Bluebird Bakery"].ID)
					}
					var headers []string
					if rq.htmx {
						headers = []string{"HX-Request", "true"}
					}
					b.get(path, headers...) // warm up: pooled connections are open
					var p page
					counts[i] = counter.count(func() { p = b.get(path, headers...) })
					if p.status != http.StatusOK {
						t.Fatalf("%s: status %d", path, p.status)
					}
					if rq.check != nil && email == "owner@northwind.test" {
						rq.check(t, p, w.subAccounts)
					}
				}
				t.Logf("%d statements with 3 sub-accounts, %d with 1,000", counts[0], counts[1])
				if counts[0] == 0 {
					t.Fatal("no statement was counted: the counter is broken")
				}
				if counts[0] != counts[1] {
					t.Errorf("%d statements with 3 sub-accounts but %d with 1,000: a query runs per sub-account", counts[0], counts[1])
				}
			})
		}
	}
}
