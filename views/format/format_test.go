package format_test

import (
	"testing"
	"time"

	"github.com/relink/relink/views/format"
)

func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		name     string
		amount   string
		currency string
		want     string
	}{
		{name: "USD cents", amount: "12345", currency: "USD", want: "$123.45"},
		{name: "USD thousands", amount: "125430000", currency: "USD", want: "$1,254,300.00"},
		{name: "USD under a dollar", amount: "5", currency: "USD", want: "$0.05"},
		{name: "USD zero", amount: "0", currency: "USD", want: "$0.00"},
		{name: "USD lower-case code", amount: "100", currency: "usd", want: "$1.00"},
		{name: "USD negative", amount: "-250", currency: "USD", want: "-$2.50"},
		{name: "USD leading zeros", amount: "000123", currency: "USD", want: "$1.23"},
		{name: "EUR", amount: "9876543", currency: "EUR", want: "€98,765.43"},
		{name: "GBP", amount: "100000", currency: "GBP", want: "£1,000.00"},
		{name: "JPY has no minor unit", amount: "12345", currency: "JPY", want: "¥12,345"},
		{name: "KRW has no minor unit", amount: "1500000", currency: "KRW", want: "₩1,500,000"},
		{name: "HUF is whole forints in Graph", amount: "12345", currency: "HUF", want: "HUF 12,345"},
		{name: "KWD is hundredths in Graph", amount: "12345", currency: "KWD", want: "KWD 123.45"},
		{name: "CAD keeps its prefix", amount: "12345", currency: "CAD", want: "CA$123.45"},
		{name: "CHF code gets a space", amount: "12345", currency: "CHF", want: "CHF 123.45"},
		{name: "empty amount", amount: "", currency: "USD", want: ""},
		{name: "blank amount", amount: "  ", currency: "USD", want: ""},
		{name: "unknown currency", amount: "12345", currency: "XYZ", want: "12,345 XYZ"},
		{name: "no currency", amount: "12345", currency: "", want: "12,345"},
		{name: "not minor units", amount: "123.45", currency: "USD", want: "123.45 USD"},
		{name: "a very large amount", amount: "123456789012345678901234", currency: "USD", want: "$1,234,567,890,123,456,789,012.34"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := format.Money(tc.amount, tc.currency); got != tc.want {
				t.Errorf("Money(%q, %q) = %q, want %q", tc.amount, tc.currency, got, tc.want)
			}
		})
	}
}

func TestIsZeroAmount(t *testing.T) {
	for _, tc := range []struct {
		name   string
		amount string
		want   bool
	}{
		{name: "empty", amount: "", want: true},
		{name: "zero", amount: "0", want: true},
		{name: "zeros", amount: "000", want: true},
		{name: "a cap", amount: "5000000", want: false},
		{name: "not a number", amount: "n/a", want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := format.IsZeroAmount(tc.amount); got != tc.want {
				t.Errorf("IsZeroAmount(%q) = %v, want %v", tc.amount, got, tc.want)
			}
		})
	}
}

var now = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

func TestAgo(t *testing.T) {
	for _, tc := range []struct {
		name string
		ago  time.Duration
		want string
	}{
		{name: "now", ago: 0, want: "just now"},
		{name: "44 seconds", ago: 44 * time.Second, want: "just now"},
		{name: "45 seconds", ago: 45 * time.Second, want: "1 minute ago"},
		{name: "89 seconds", ago: 89 * time.Second, want: "1 minute ago"},
		{name: "90 seconds", ago: 90 * time.Second, want: "2 minutes ago"},
		{name: "3 minutes", ago: 3 * time.Minute, want: "3 minutes ago"},
		{name: "59 minutes", ago: 59 * time.Minute, want: "59 minutes ago"},
		{name: "59 and a half minutes", ago: 59*time.Minute + 30*time.Second, want: "1 hour ago"},
		{name: "2 hours", ago: 2 * time.Hour, want: "2 hours ago"},
		{name: "23 hours", ago: 23 * time.Hour, want: "23 hours ago"},
		{name: "23 and a half hours", ago: 23*time.Hour + 30*time.Minute, want: "yesterday"},
		{name: "47 hours", ago: 47 * time.Hour, want: "yesterday"},
		{name: "2 days", ago: 48 * time.Hour, want: "2 days ago"},
		{name: "6 days", ago: 6*24*time.Hour + 23*time.Hour, want: "6 days ago"},
		{name: "a week", ago: 7 * 24 * time.Hour, want: "8 Jun 2026"},
		{name: "a year", ago: 366 * 24 * time.Hour, want: "14 Jun 2025"},
		{name: "a clock slightly ahead", ago: -30 * time.Second, want: "just now"},
		{name: "the future", ago: -5 * time.Minute, want: "in 5 minutes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := format.Ago(now.Add(-tc.ago), now); got != tc.want {
				t.Errorf("Ago(now-%s) = %q, want %q", tc.ago, got, tc.want)
			}
		})
	}
}

func TestUntil(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   time.Duration
		want string
	}{
		{name: "30 seconds", in: 30 * time.Second, want: "in less than a minute"},
		{name: "1 minute", in: time.Minute, want: "in 1 minute"},
		{name: "59 minutes", in: 59*time.Minute + 59*time.Second, want: "in 59 minutes"},
		{name: "1 hour", in: time.Hour, want: "in 1 hour"},
		{name: "5 hours", in: 5*time.Hour + 59*time.Minute, want: "in 5 hours"},
		{name: "47 hours", in: 47 * time.Hour, want: "in 47 hours"},
		{name: "2 days", in: 48 * time.Hour, want: "in 2 days"},
		{name: "53 days and a bit", in: 53*24*time.Hour + 23*time.Hour, want: "in 53 days"},
		{name: "exactly now", in: 0, want: "expired less than a minute ago"},
		{name: "expired 5 minutes ago", in: -5 * time.Minute, want: "expired 5 minutes ago"},
		{name: "expired 1 hour ago", in: -time.Hour, want: "expired 1 hour ago"},
		{name: "expired 3 days ago", in: -3*24*time.Hour - time.Hour, want: "expired 3 days ago"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := format.Until(now.Add(tc.in), now); got != tc.want {
				t.Errorf("Until(now+%s) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestDaysLeft(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   time.Duration
		want int
	}{
		{name: "53 days", in: 53*24*time.Hour + time.Hour, want: 53},
		{name: "under a day", in: 23 * time.Hour, want: 0},
		{name: "now", in: 0, want: 0},
		{name: "an hour ago", in: -time.Hour, want: -1},
		{name: "exactly a day ago", in: -24 * time.Hour, want: -1},
		{name: "three days ago", in: -3*24*time.Hour - time.Minute, want: -4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := format.DaysLeft(now.Add(tc.in), now); got != tc.want {
				t.Errorf("DaysLeft(now+%s) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestExact(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    time.Time
		want string
	}{
		{name: "UTC", t: time.Date(2026, 12, 1, 15, 4, 59, 0, time.UTC), want: "2026-12-01 15:04 UTC"},
		{name: "another zone", t: time.Date(2026, 12, 1, 10, 4, 0, 0, time.FixedZone("EST", -5*3600)), want: "2026-12-01 15:04 UTC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := format.Exact(tc.t); got != tc.want {
				t.Errorf("Exact = %q, want %q", got, tc.want)
			}
		})
	}
}
