package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// content is one email in words, before it becomes text and HTML: both parts are rendered
// from it, so they always say the same thing.
type content struct {
	Subject string
	// Preheader is the line inboxes show after the subject.
	Preheader string
	Greeting  string
	Heading   string
	Intro     []string
	Facts     []fact
	// StepsTitle heads the numbered Steps.
	StepsTitle string
	Steps      []string
	// Action is the one button, with its link also written out for clients that hide it.
	Action *action
	// ImpactTitle heads the bullet list Impact: what stops working meanwhile.
	ImpactTitle string
	Impact      []string
	// Items are the lines of a digest.
	Items []item
	Notes []string
	// Footer says why the reader gets the email; SettingsURL where to change that.
	Footer      []string
	SettingsURL string
}

type fact struct{ Label, Value string }

type action struct{ Label, URL string }

// item is one email of a digest.
type item struct {
	Title, When string
	LinkLabel   string
	URL         string
}

// links are the addresses an email about one connection points to, under BASE_URL.
type links struct {
	// Reauthenticate is the connection's landing page, with the Reauthenticate button.
	Reauthenticate string
	Connections    string
	Settings       string
}

// links builds the links of connection c.
func (o *Outbox) links(c models.Connection) links {
	return links{
		Reauthenticate: o.url(fmt.Sprintf("/accounts/%d/connections/%d/reauthenticate", c.SubAccountID, c.ID)),
		Connections:    o.url(fmt.Sprintf("/accounts/%d/connections", c.SubAccountID)),
		Settings:       o.url("/settings/notifications"),
	}
}

func (o *Outbox) url(path string) string {
	u := *o.base
	u.Path = o.base.Path + path
	return u.String()
}

// input is what one email about a connection is composed from.
type input struct {
	notice    connection.Notice
	sub       models.SubAccountRef
	recipient models.Recipient
	now       time.Time
	links     links
	// afterOutage says a "reconnected" email ends an outage ("we cannot reach") rather
	// than an incident someone had to act on.
	afterOutage bool
}

// compose is the email of in's notice for its recipient.
func compose(in input) (content, error) {
	switch in.notice.Kind {
	case connection.NoticeIncident:
		return composeIncident(in), nil
	case connection.NoticeReconnected:
		return composeReconnected(in), nil
	case connection.NoticeReminder:
		return composeReminder(in), nil
	case connection.NoticeUnreachable:
		return composeUnreachable(in), nil
	}
	return content{}, fmt.Errorf("notify: unknown notice kind %q", in.notice.Kind)
}

// incidentPhrase says what happened to the connection, for the subject.
func incidentPhrase(c models.Connection) string {
	switch {
	case c.Status == models.StatusPermissionsMissing:
		return "is missing a permission"
	case c.Status == models.StatusBlocked:
		return "is blocked"
	case c.Reason == providers.ReasonTokenExpired:
		return "has expired"
	}
	return "stopped working"
}

func composeIncident(in input) content {
	c := in.notice.Connection
	label := connection.ProviderLabel(c.Provider)
	what := fmt.Sprintf("the %s connection of %s %s", label, in.sub.Name, incidentPhrase(c))
	ct := in.frame()
	ct.Subject = "Action needed: " + what
	ct.Heading = capitalize(what)
	ct.Preheader = fmt.Sprintf("Reauthenticate %s account %s to keep %s's data flowing.", label, accountName(c), in.sub.Name)
	ct.Intro = []string{
		fmt.Sprintf("Relink can no longer read all of %s's %s data through the %s account %s, until someone reconnects it.",
			in.sub.Name, label, label, accountName(c)),
	}
	ct.Facts = append(in.facts(),
		fact{"Status", c.Status.Label()},
		fact{"What happened", reasonText(c)},
		fact{"Since", when(in.notice.Since)})
	ct.StepsTitle = "How to fix it"
	ct.Steps = in.steps(reasonOf(c).Fix())
	ct.Action = &action{"Reauthenticate", in.links.Reauthenticate}
	ct.ImpactTitle = "Until it is fixed"
	ct.Impact = impact(in.sub, label)
	return ct
}

func composeReconnected(in input) content {
	c := in.notice.Connection
	label := connection.ProviderLabel(c.Provider)
	ct := in.frame()
	if in.afterOutage {
		ct.Subject = fmt.Sprintf("%s answers again for the connection of %s", label, in.sub.Name)
		ct.Heading = ct.Subject
		ct.Intro = []string{
			fmt.Sprintf("%s answers Relink's checks again for the connection of %s (%s account %s).", label, in.sub.Name, label, accountName(c)),
			"Nothing was lost: ad syncing, automated rules and reporting resume, and the data catches up at the next refresh. There is nothing to do.",
		}
	} else {
		what := fmt.Sprintf("the %s connection of %s works again", label, in.sub.Name)
		ct.Subject = "Fixed: " + what
		ct.Heading = capitalize(what)
		ct.Intro = []string{
			fmt.Sprintf("The %s account %s is connected again, so Relink reads %s's %s data again.", label, accountName(c), in.sub.Name, label),
			"Ad syncing, automated rules and reporting resume, and the data catches up at the next refresh. There is nothing else to do.",
		}
	}
	ct.Preheader = ct.Intro[0]
	ct.Facts = append(in.facts(), fact{"Status", c.Status.Label()})
	ct.Action = &action{"Open the connections", in.links.Connections}
	return ct
}

func composeReminder(in input) content {
	n := in.notice
	c := n.Connection
	label := connection.ProviderLabel(c.Provider)
	ct := in.frame()
	ct.Subject = fmt.Sprintf("The %s connection of %s expires %s", label, in.sub.Name, inDays(n.DaysLeft))
	ct.Heading = fmt.Sprintf("Reconnect %s for %s before %s", label, in.sub.Name, day(n.ExpiresAt))
	var what string
	switch n.Clock {
	case connection.ClockDataAccess:
		what = fmt.Sprintf("%s's data access for the account %s ends on %s: %s asks the person who connected an account to confirm it every 90 days.",
			label, accountName(c), when(n.ExpiresAt), label)
	case connection.ClockRefresh:
		what = fmt.Sprintf("%s's long-term access for the account %s ends on %s.", label, accountName(c), when(n.ExpiresAt))
	default:
		what = fmt.Sprintf("The access %s gave Relink for the account %s ends on %s.", label, accountName(c), when(n.ExpiresAt))
	}
	ct.Intro = []string{
		what,
		fmt.Sprintf("%s does not let Relink renew it without the person who connected it, so reconnect before %s. It takes a minute, and nothing is lost.",
			label, when(n.ExpiresAt)),
	}
	ct.Preheader = fmt.Sprintf("Reconnect before %s to keep %s's data flowing.", when(n.ExpiresAt), in.sub.Name)
	ct.Facts = append(in.facts(), fact{"Ends", when(n.ExpiresAt)})
	ct.StepsTitle = "How to reconnect"
	ct.Steps = in.steps(providers.ReasonTokenExpired.Fix())
	ct.Action = &action{"Reauthenticate", in.links.Reauthenticate}
	ct.ImpactTitle = "If nobody reconnects by then"
	ct.Impact = impact(in.sub, label)
	return ct
}

// composeUnreachable is the "we cannot reach" email. The provider not answering says
// nothing about the connection's access, so it must never read as if that ended: it says
// the connection is presumed fine, nothing is lost, and Relink keeps trying.
func composeUnreachable(in input) content {
	c := in.notice.Connection
	label := connection.ProviderLabel(c.Provider)
	days := max(int(in.now.Sub(in.notice.Since)/(24*time.Hour)), 1)
	ct := in.frame()
	ct.Subject = fmt.Sprintf("We cannot reach %s for the connection of %s", label, in.sub.Name)
	ct.Heading = fmt.Sprintf("We have not been able to reach %s for %s", label, plural(days, "day", "days"))
	ct.Intro = []string{
		fmt.Sprintf("Since %s, %s has not answered Relink's checks of the connection of %s (%s account %s).",
			when(in.notice.Since), label, in.sub.Name, label, accountName(c)),
		fmt.Sprintf("This is a problem on %s's side or between Relink and %s. Your connection is presumed fine and nothing is lost: Relink keeps its access and its data.", label, label),
		fmt.Sprintf("We keep trying automatically, and the data catches up as soon as %s answers. If %s then reports a problem with the connection itself, we will email you what to do.", label, label),
	}
	ct.Preheader = "Your connection is presumed fine and nothing is lost; we keep trying."
	ct.Facts = append(in.facts(), fact{"Status", c.Status.Label()}, fact{"Not answering since", when(in.notice.Since)})
	ct.ImpactTitle = "Meanwhile"
	ct.Impact = []string{
		fmt.Sprintf("The figures of %s's Pages and ad accounts in Relink stay as they were at the last successful check.", in.sub.Name),
		fmt.Sprintf("Ad syncing and automated rules that need %s wait until it answers.", label),
	}
	ct.Notes = []string{"There is nothing you need to do now."}
	ct.Action = &action{"Open the connections", in.links.Connections}
	return ct
}

// digestInput is what a digest is composed from.
type digestInput struct {
	user  models.User
	held  []models.OutboxEmail
	now   time.Time
	links func(models.Connection) links
}

func composeDigest(in digestInput) content {
	n := len(in.held)
	ct := content{Greeting: greeting(in.user.Name)}
	ct.Subject = fmt.Sprintf("Relink daily digest: %s about your connections", plural(n, "update", "updates"))
	ct.Heading = "Your connections, " + day(in.now)
	ct.Preheader = ct.Subject
	ct.Intro = []string{"You chose one daily email instead of one per event. Here is what happened since the last one, oldest first:"}
	for _, e := range in.held {
		var c models.Connection
		if e.SubAccountID != nil {
			c.SubAccountID = *e.SubAccountID
		}
		if e.ConnectionID != nil {
			c.ID = *e.ConnectionID
		}
		l := in.links(c)
		it := item{Title: e.Subject, When: when(e.CreatedAt), LinkLabel: "Open the connections", URL: l.Connections}
		switch {
		case c.SubAccountID == 0:
			it.URL, it.LinkLabel = "", ""
		case c.ID != 0 && (e.Kind == models.EmailIncident || e.Kind == models.EmailReminder):
			it.LinkLabel, it.URL = "Reauthenticate", l.Reauthenticate
		}
		ct.Items = append(ct.Items, it)
		ct.SettingsURL = l.Settings
	}
	ct.Footer = []string{
		"You receive this digest because you chose a daily digest in your Relink email settings.",
		"Relink never asks for a password or a token by email.",
	}
	return ct
}

// frame is what every email about a connection starts with: greeting and footer.
func (in input) frame() content {
	return content{
		Greeting: greeting(in.recipient.Name),
		Footer: []string{
			fmt.Sprintf("You receive this email because you are %s in Relink.", rolePhrase(in.recipient.Role, in.sub)),
			"Relink never asks for a password or a token by email.",
		},
		SettingsURL: in.links.Settings,
	}
}

// facts name the connection: provider, account with its id, sub-account and agency.
func (in input) facts() []fact {
	c := in.notice.Connection
	label := connection.ProviderLabel(c.Provider)
	return []fact{
		{"Provider", label},
		{label + " account", fmt.Sprintf("%s (ID %s)", accountName(c), c.ExternalUserID)},
		{"Sub-account", in.sub.Name},
		{"Agency", in.sub.AgencyName},
	}
}

// steps are the numbered steps of a reconnection, around fix, the reason's own fix.
func (in input) steps(fix string) []string {
	c := in.notice.Connection
	label := connection.ProviderLabel(c.Provider)
	return []string{
		"Open the Reauthenticate link below. It leads to this connection in Relink; sign in first if Relink asks.",
		fmt.Sprintf("Make sure you are in the sub-account %s: its name is at the top of the page. Agency staff switch sub-accounts from the dropdown there.", in.sub.Name),
		fix,
		fmt.Sprintf("In the %s pop-up, continue as yourself and choose the Pages and ad accounts Relink should use, keeping every permission ticked. Continuing as %s, the account connected now, keeps the same Pages and ad accounts; another account first shows what would change.",
			label, accountName(c)),
		fmt.Sprintf("Reconnecting takes an admin in Relink: %s. If that is not you, forward this email to one of them.", whoCanManage(in.sub)),
	}
}

// impact is what stops working while a connection does not.
func impact(sub models.SubAccountRef, label string) []string {
	return []string{
		fmt.Sprintf("Ad syncing stops for %s's %s Pages and ad accounts.", sub.Name, label),
		"Automated rules that use them do not run.",
		"Reporting data goes stale: it stays as it was at the last successful check.",
	}
}

// reasonOf is the connection's reason, or ReasonUnknown when it has none Relink knows.
func reasonOf(c models.Connection) providers.Reason {
	if !c.Reason.Valid() {
		return providers.ReasonUnknown
	}
	return c.Reason
}

// reasonText is the reason in plain words, naming a missing permission.
func reasonText(c models.Connection) string {
	msg := reasonOf(c).Message()
	if c.Reason == providers.ReasonMissingPermission && c.ReasonDetail != "" {
		msg += " Missing: " + c.ReasonDetail + "."
	}
	return msg
}

func accountName(c models.Connection) string {
	if strings.TrimSpace(c.ExternalUserName) == "" {
		return "(no name given)"
	}
	return c.ExternalUserName
}

func greeting(name string) string {
	if name = strings.TrimSpace(name); name != "" {
		return "Hi " + name + ","
	}
	return "Hello,"
}

// rolePhrase is the role that makes the reader a recipient, in words.
func rolePhrase(r models.Role, sub models.SubAccountRef) string {
	switch r {
	case models.RoleAgencyOwner:
		return "an owner of " + sub.AgencyName
	case models.RoleAgencyAdmin:
		return "an admin of " + sub.AgencyName
	}
	return "an account admin of " + sub.Name
}

// whoCanManage names the roles that may reconnect a connection of sub.
func whoCanManage(sub models.SubAccountRef) string {
	return fmt.Sprintf("an account admin of %s, or an admin or owner of %s", sub.Name, sub.AgencyName)
}

// when is an instant as the emails write it; recipients' time zones are unknown, so UTC,
// said so.
func when(t time.Time) string { return t.UTC().Format("Mon 2 January 2006, 15:04 UTC") }

func day(t time.Time) string { return t.UTC().Format("Mon 2 January 2006") }

func inDays(n int) string {
	if n <= 0 {
		return "today"
	}
	return "in " + plural(n, "day", "days")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
