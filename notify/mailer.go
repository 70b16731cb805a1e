package notify

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// Message is one email as a Mailer sends it.
type Message struct {
	To      string
	Subject string
	// Text and HTML are the two alternative parts; HTML may be empty.
	Text string
	HTML string
	// MessageID is the Message-ID without its angle brackets; a random one when empty.
	MessageID string
	// Headers are extra header fields, such as Auto-Submitted.
	Headers map[string]string
}

// Mailer sends emails.
type Mailer interface {
	// Send hands m to the mail server. An error wrapping ErrRejected will not go away by
	// trying again; any other is worth retrying.
	Send(ctx context.Context, m Message) error
}

// ErrRejected marks an email the mail server refused for good: a permanent (5xx) answer to
// its recipient or its content, or an address that is not one.
var ErrRejected = errors.New("notify: rejected by the mail server")

// DefaultFrom is the sender when SMTP_URL names none.
const DefaultFrom = "Relink <relink@localhost>"

// DefaultSMTPTimeout bounds one delivery (connect, TLS, authentication and the transfer)
// when SMTP_URL sets no timeout.
const DefaultSMTPTimeout = 30 * time.Second

// SMTPMailer sends emails through an SMTP server, one connection per email.
type SMTPMailer struct {
	host     string
	opts     []mail.Option
	from     string
	redacted string
	// secrets are the URL's user name and password, scrubbed from every error.
	secrets []string
}

// NewSMTPMailer builds a Mailer from SMTP_URL:
//
//	smtp://[user:pass@]host[:port]           STARTTLS when the server offers it (port 587)
//	smtps://[user:pass@]host[:port]          TLS from the first byte (port 465)
//	smtp+insecure://[user:pass@]host[:port]  no TLS at all (port 25): local test servers
//
// with optional query parameters: from (the sender, "Name <address>", default DefaultFrom),
// tls=none (same as smtp+insecure) or tls=required (refuse a server without STARTTLS), and
// timeout (a Go duration, default 30s). Reserved characters of the user name and password
// are percent-encoded. Credentials are sent only over TLS, unless the URL says no TLS;
// no error or log line repeats them (String is the URL without the password).
func NewSMTPMailer(smtpURL string) (*SMTPMailer, error) {
	u, err := url.Parse(smtpURL)
	if err != nil {
		// url's error quotes the URL, password included.
		return nil, errors.New("notify: SMTP_URL is not a URL")
	}
	var (
		port   int
		ssl    bool
		policy mail.TLSPolicy
	)
	switch u.Scheme {
	case "smtp":
		port, policy = 587, mail.TLSOpportunistic
	case "smtps":
		port, ssl = 465, true
	case "smtp+insecure":
		port, policy = 25, mail.NoTLS
	default:
		return nil, errors.New("notify: SMTP_URL must start with smtp://, smtps:// or smtp+insecure://")
	}
	if u.Hostname() == "" {
		return nil, errors.New("notify: SMTP_URL names no host")
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, errors.New("notify: SMTP_URL has an invalid port")
		}
	}
	q := u.Query()
	switch q.Get("tls") {
	case "":
	case "none":
		if ssl {
			return nil, errors.New("notify: SMTP_URL: smtps:// with tls=none")
		}
		policy = mail.NoTLS
	case "required":
		if !ssl {
			policy = mail.TLSMandatory
		}
	default:
		return nil, errors.New("notify: SMTP_URL: tls must be none or required")
	}
	from := DefaultFrom
	if f := q.Get("from"); f != "" {
		if _, err := netmail.ParseAddress(f); err != nil {
			return nil, fmt.Errorf("notify: SMTP_URL: from %q is not an address", f)
		}
		from = f
	}
	timeout := DefaultSMTPTimeout
	if t := q.Get("timeout"); t != "" {
		if timeout, err = time.ParseDuration(t); err != nil || timeout <= 0 {
			return nil, errors.New("notify: SMTP_URL: timeout must be a positive Go duration such as 30s")
		}
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(timeout)}
	if ssl {
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(policy))
	}
	m := &SMTPMailer{host: u.Hostname(), from: from, redacted: u.Redacted()}
	if u.User != nil && u.User.Username() != "" {
		user := u.User.Username()
		pass, _ := u.User.Password()
		// Auto-discovery picks the strongest mechanism the server offers and never PLAIN or
		// LOGIN without TLS; only a URL that asks for no TLS sends them in clear.
		auth := mail.SMTPAuthAutoDiscover
		if policy == mail.NoTLS && !ssl {
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(user), mail.WithPassword(pass))
		m.secrets = append(m.secrets, user)
		if pass != "" {
			m.secrets = append(m.secrets, pass)
		}
	}
	m.opts = opts
	// Built once here to check the options; Send builds its own per email, so that
	// concurrent sends share no connection state.
	if _, err := mail.NewClient(m.host, m.opts...); err != nil {
		return nil, fmt.Errorf("notify: SMTP_URL: %s", m.scrub(err.Error()))
	}
	return m, nil
}

// String is the SMTP URL without its password, for logs.
func (m *SMTPMailer) String() string { return m.redacted }

// From is the sender address of every email.
func (m *SMTPMailer) From() string { return m.from }

// Send delivers msg over a new connection.
func (m *SMTPMailer) Send(ctx context.Context, msg Message) error {
	em := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := em.From(m.from); err != nil {
		return fmt.Errorf("notify: sender: %s", m.scrub(err.Error()))
	}
	if err := em.To(msg.To); err != nil {
		return fmt.Errorf("%w: the recipient is not an address", ErrRejected)
	}
	em.Subject(msg.Subject)
	if msg.MessageID != "" {
		em.SetMessageIDWithValue(msg.MessageID)
	} else {
		em.SetMessageID()
	}
	em.SetDate()
	for k, v := range msg.Headers {
		em.SetGenHeader(mail.Header(k), v)
	}
	em.SetBodyString(mail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		em.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	}
	c, err := mail.NewClient(m.host, m.opts...)
	if err != nil {
		return fmt.Errorf("notify: smtp client: %s", m.scrub(err.Error()))
	}
	if err := c.DialAndSendWithContext(ctx, em); err != nil {
		text := "notify: smtp: " + m.scrub(err.Error())
		if permanent(err) {
			return fmt.Errorf("%w: %s", ErrRejected, text)
		}
		return errors.New(text)
	}
	return nil
}

// permanent reports whether err is the server refusing the recipient or the message with
// a 5xx answer. A 5xx to anything else (authentication, the sender) is more likely a
// mistake in the configuration, which someone may fix: those are retried.
func permanent(err error) bool {
	var se *mail.SendError
	if !errors.As(err, &se) || se.IsTemp() {
		return false
	}
	switch se.Reason {
	case mail.ErrSMTPRcptTo, mail.ErrSMTPDataClose:
		return se.ErrorCode() >= 500 && se.ErrorCode() < 600
	}
	return false
}

// scrub removes the URL's credentials from s.
func (m *SMTPMailer) scrub(s string) string {
	for _, secret := range m.secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}
