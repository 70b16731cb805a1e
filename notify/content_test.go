package notify_test

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// textOfHTML is the visible text of an HTML part, for checks that should hold in both parts.
func textOfHTML(s string) string {
	s = regexp.MustCompile(`(?s)<head>.*?</head>`).ReplaceAllString(s, "")
	s = regexp.MustCompile(`<[^>]+>`).ReplaceAllString(s, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

func TestEmailContent(t *testing.T) {
	since := time.Date(2026, 6, 12, 9, 30, 0, 0, time.UTC)
	expires := time.Date(2026, 6, 18, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		status      models.Status
		reason      providers.Reason
		detail      string
		notice      func(c models.Connection) connection.Notice
		wantSubject string
		// want must appear in the text part and the HTML part.
		want []string
		// never must appear in neither.
		never []string
	}{
		{
			name: "incident: expired", status: models.StatusReauthRequired, reason: providers.ReasonTokenExpired,
			wantSubject: "Action needed: the Facebook connection of Bluebird Bakery has expired",
			want: []string{"Facebook", "Avery Agency", "10000000000001", "Bluebird Bakery", "Northwind Marketing",
				providers.ReasonTokenExpired.Message(), providers.ReasonTokenExpired.Fix(),
				"Make sure you are in the sub-account Bluebird Bakery", "dropdown", "continue as yourself",
				"Pages and ad accounts", "an account admin of Bluebird Bakery, or an admin or owner of Northwind Marketing",
				"Ad syncing stops", "Automated rules", "Reporting data goes stale", "Reauthenticate",
				"Fri 12 June 2026, 09:30 UTC"},
		},
		{
			name: "incident: another reason for reauthentication", status: models.StatusReauthRequired, reason: providers.ReasonPasswordChanged,
			wantSubject: "Action needed: the Facebook connection of Bluebird Bakery stopped working",
			want:        []string{providers.ReasonPasswordChanged.Message(), providers.ReasonPasswordChanged.Fix()},
			never:       []string{"expired"},
		},
		{
			name: "incident: a missing permission is named", status: models.StatusPermissionsMissing,
			reason: providers.ReasonMissingPermission, detail: "ads_read",
			wantSubject: "Action needed: the Facebook connection of Bluebird Bakery is missing a permission",
			want:        []string{providers.ReasonMissingPermission.Message(), "Missing: ads_read.", providers.ReasonMissingPermission.Fix()},
		},
		{
			name: "incident: blocked", status: models.StatusBlocked, reason: providers.ReasonPolicyBlocked,
			wantSubject: "Action needed: the Facebook connection of Bluebird Bakery is blocked",
			want:        []string{providers.ReasonPolicyBlocked.Message(), providers.ReasonPolicyBlocked.Fix()},
		},
		{
			name: "reconnected", status: models.StatusHealthy,
			notice: func(c models.Connection) connection.Notice {
				return connection.Notice{Kind: connection.NoticeReconnected, Connection: c, Since: since}
			},
			wantSubject: "Fixed: the Facebook connection of Bluebird Bakery works again",
			want:        []string{"Avery Agency", "10000000000001", "resume", "nothing else to do", "/accounts/%[1]d/connections"},
		},
		{
			name: "reminder", status: models.StatusExpiring,
			notice: func(c models.Connection) connection.Notice {
				return connection.Notice{Kind: connection.NoticeReminder, Connection: c, Since: expires,
					Clock: connection.ClockToken, ExpiresAt: expires, DaysLeft: 3}
			},
			wantSubject: "The Facebook connection of Bluebird Bakery expires in 3 days",
			want: []string{"Thu 18 June 2026, 12:00 UTC", "does not let Relink renew it without the person who connected it",
				"reconnect before Thu 18 June 2026, 12:00 UTC", "Avery Agency", "10000000000001", "Reauthenticate",
				"/accounts/%[1]d/connections/%[2]d/reauthenticate"},
		},
		{
			name: "unreachable never says expired", status: models.StatusDegraded, reason: providers.ReasonProviderUnavailable,
			notice: func(c models.Connection) connection.Notice {
				return connection.Notice{Kind: connection.NoticeUnreachable, Connection: c, Since: since}
			},
			wantSubject: "We cannot reach Facebook for the connection of Bluebird Bakery",
			want: []string{"for 3 days", "presumed fine", "nothing is lost", "keep trying", "Avery Agency",
				"Since Fri 12 June 2026, 09:30 UTC"},
			never: []string{"xpire", "xpiry", "Action needed", "reauthenticate"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			c := w.conn
			c.Status, c.Reason, c.ReasonDetail = tt.status, tt.reason, tt.detail
			n := connection.Notice{Kind: connection.NoticeIncident, Connection: c, Since: since}
			if tt.notice != nil {
				n = tt.notice(c)
				if n.Kind == connection.NoticeReconnected {
					// A reconnected email follows an incident email.
					w.queue(connection.Notice{Kind: connection.NoticeIncident, Connection: w.conn, Since: since})
				}
			}
			if got := w.queue(n); got == 0 {
				t.Fatal("nothing queued")
			}
			var e models.OutboxEmail
			for _, row := range w.emails() {
				if row.Kind == string(n.Kind) && row.ToAddress == accAdmin {
					e = row
				}
			}
			if e.ID == 0 {
				t.Fatalf("no %s email to %s", n.Kind, accAdmin)
			}
			if e.Subject != tt.wantSubject {
				t.Errorf("subject %q, want %q", e.Subject, tt.wantSubject)
			}
			htmlText := textOfHTML(e.BodyHTML)
			link := fmt.Sprintf(baseURL+"/accounts/%d/connections", w.bluebird.ID)
			// The HTML part is read as its visible text and its markup, where the links are.
			parts := map[string]string{"text": e.BodyText, "html": htmlText + "\n" + e.BodyHTML}
			for part, body := range parts {
				for _, want := range append(tt.want, "Hi Bea Baker,", "an account admin of Bluebird Bakery", link, baseURL+"/settings/notifications") {
					if strings.Contains(want, "%[") {
						want = fmt.Sprintf(want, w.bluebird.ID, c.ID)
					}
					if !strings.Contains(body, want) {
						t.Errorf("%s part lacks %q:\n%s", part, want, body)
					}
				}
				for _, never := range append(tt.never, secretToken, "token_expired", "<nil>", "%!") {
					if strings.Contains(strings.ToLower(body), strings.ToLower(never)) {
						t.Errorf("%s part says %q:\n%s", part, never, body)
					}
				}
			}
			if strings.Contains(e.BodyHTML, secretToken) || strings.Contains(e.BodyHTML, "<script") || strings.Contains(e.BodyHTML, "<table") {
				t.Error("HTML part holds the token, a script or a table")
			}
			if n.Kind == connection.NoticeIncident {
				// Numbered steps in both parts.
				if !strings.Contains(e.BodyText, "1. Open the Reauthenticate link") || !strings.Contains(e.BodyText, "5. Reconnecting takes an admin") {
					t.Errorf("text steps:\n%s", e.BodyText)
				}
				if strings.Count(e.BodyHTML, "<li") < 5 || !strings.Contains(e.BodyHTML, "<ol") {
					t.Error("HTML steps are not a numbered list")
				}
				reauth := fmt.Sprintf(`href="%s/accounts/%d/connections/%d/reauthenticate"`, baseURL, w.bluebird.ID, c.ID)
				if !strings.Contains(e.BodyHTML, reauth) {
					t.Errorf("HTML has no %s", reauth)
				}
			}
		})
	}
}

func TestEmailFooterNamesTheRecipientsRole(t *testing.T) {
	w := newWorld(t)
	w.queue(w.incident())
	want := map[string]string{
		owner:       "you are an owner of Northwind Marketing",
		agencyAdmin: "you are an admin of Northwind Marketing",
		dual:        "you are an admin of Northwind Marketing",
		accAdmin:    "you are an account admin of Bluebird Bakery",
	}
	for _, e := range w.emails() {
		if !strings.Contains(e.BodyText, want[e.ToAddress]) {
			t.Errorf("%s: text lacks %q", e.ToAddress, want[e.ToAddress])
		}
	}
}
