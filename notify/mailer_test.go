package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relink/relink/notify"
	"github.com/relink/relink/notify/smtptest"
)

func TestNewSMTPMailer(t *testing.T) {
	tests := []struct {
		name     string
		url      string
		wantErr  string
		wantFrom string
	}{
		{name: "STARTTLS when offered, default sender", url: "smtp://user:s3cret-pw@mail.example.com", wantFrom: notify.DefaultFrom},
		{name: "implicit TLS with a sender", url: "smtps://user:s3cret-pw@mail.example.com:465?from=Alerts+%3Calerts%40example.com%3E", wantFrom: "Alerts <alerts@example.com>"},
		{name: "no TLS for a local test server", url: "smtp+insecure://127.0.0.1:2525", wantFrom: notify.DefaultFrom},
		{name: "tls=none", url: "smtp://127.0.0.1:2525?tls=none&timeout=5s", wantFrom: notify.DefaultFrom},
		{name: "tls=required", url: "smtp://mail.example.com?tls=required", wantFrom: notify.DefaultFrom},
		{name: "unknown scheme", url: "http://user:s3cret-pw@mail.example.com", wantErr: "must start with smtp://"},
		{name: "no host", url: "smtp://user:s3cret-pw@", wantErr: "names no host"},
		{name: "bad port", url: "smtp://user:s3cret-pw@mail.example.com:99999", wantErr: "invalid port"},
		{name: "smtps without TLS", url: "smtps://mail.example.com?tls=none", wantErr: "tls=none"},
		{name: "unknown tls", url: "smtp://mail.example.com?tls=maybe", wantErr: "tls must be"},
		{name: "bad sender", url: "smtp://mail.example.com?from=nobody", wantErr: "is not an address"},
		{name: "bad timeout", url: "smtp://mail.example.com?timeout=soon", wantErr: "timeout"},
		{name: "not a URL", url: "smtp://user:s3cret-pw@mail example.com:%zz", wantErr: "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := notify.NewSMTPMailer(tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret-pw") {
					t.Fatalf("error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.From() != tt.wantFrom {
				t.Errorf("from %q, want %q", m.From(), tt.wantFrom)
			}
			if strings.Contains(m.String(), "s3cret-pw") {
				t.Errorf("String shows the password: %s", m)
			}
		})
	}
}

func TestSMTPMailerSends(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "relink", Password: "pa ss:w@rd"})
	m, err := notify.NewSMTPMailer(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	msg := notify.Message{To: "ana@example.com", Subject: "Grüße: connection of Bluebird Bakery",
		Text: "Hello in text", HTML: "<p>Hello in <b>HTML</b></p>", MessageID: "relink.abc@relink.example.com",
		Headers: map[string]string{"Auto-Submitted": "auto-generated"}}
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	g := got[0]
	if g.To[0] != "ana@example.com" || g.Subject() != msg.Subject || g.MessageID() != "<relink.abc@relink.example.com>" ||
		!strings.Contains(g.Text, "Hello in text") || !strings.Contains(g.HTML, "<b>HTML</b>") ||
		g.Header.Get("Auto-Submitted") != "auto-generated" || g.Header.Get("Date") == "" {
		t.Fatalf("received %+v", g)
	}

	// A wrong password is an error that does not repeat the credentials.
	bad, err := notify.NewSMTPMailer(strings.Replace(srv.URL(), "relink:", "relink-x:", 1))
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Send(context.Background(), msg)
	if err == nil || strings.Contains(err.Error(), "w@rd") || strings.Contains(err.Error(), "pa%20ss") {
		t.Fatalf("send with a wrong user: %v", err)
	}
}

func TestSMTPMailerRefusals(t *testing.T) {
	tests := []struct {
		name      string
		code      int
		permanent bool
	}{
		{name: "server busy", code: 451},
		{name: "server shutting down", code: 421},
		{name: "recipient refused for good", code: 550, permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t)
			srv.Fail(tt.code)
			m, err := notify.NewSMTPMailer(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			err = m.Send(context.Background(), notify.Message{To: "ana@example.com", Subject: "s", Text: "t"})
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, notify.ErrRejected) != tt.permanent {
				t.Fatalf("error %v: rejected for good %v, want %v", err, !tt.permanent, tt.permanent)
			}
		})
	}
}

func TestSMTPMailerTimesOut(t *testing.T) {
	// A server that accepts the connection and never greets.
	m, err := notify.NewSMTPMailer("smtp+insecure://" + silentServer(t) + "?timeout=300ms")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = m.Send(context.Background(), notify.Message{To: "ana@example.com", Subject: "s", Text: "t"})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("send to a silent server: %v after %s", err, time.Since(start))
	}
}
