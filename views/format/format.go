// Package format turns amounts and times into the words and numbers the screens show.
package format

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// graphDigits holds the currencies whose Graph offset (developers.facebook.com, Marketing
// API, Currency codes) disagrees with CLDR's standard digits: Graph counts forints, pesos,
// won and the like in whole units and the Gulf dinars in hundredths, so CLDR alone would
// show these amounts 100 or 10 times off.
var graphDigits = map[string]int{
	"CLP": 0, "COP": 0, "CRC": 0, "HUF": 0, "IDR": 0, "ISK": 0, "JPY": 0,
	"KRW": 0, "PYG": 0, "TWD": 0, "VND": 0,
	"BHD": 2, "JOD": 2, "KWD": 2,
}

var symbolPrinter = message.NewPrinter(language.English)

// Money formats an amount given in the currency's minor unit, as Graph returns amount_spent
// and spend_cap ("12345" USD is $123.45, "12345" JPY is ¥12,345); "" for no amount.
func Money(amountMinor, code string) string {
	amountMinor = strings.TrimSpace(amountMinor)
	if amountMinor == "" {
		return ""
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	neg, digits, ok := splitSign(amountMinor)
	if !ok {
		// Not minor units after all: show what the provider said rather than guess.
		return strings.TrimSpace(amountMinor + " " + code)
	}
	unit, err := currency.ParseISO(code)
	if err != nil || code == "" {
		return strings.TrimSpace(sign(neg) + group(digits) + " " + code)
	}
	scale, known := graphDigits[code]
	if !known {
		scale, _ = currency.Standard.Rounding(unit)
	}
	symbol := symbolPrinter.Sprint(currency.Symbol(unit))
	if r := []rune(symbol); unicode.IsLetter(r[len(r)-1]) {
		// "CHF 12.00" reads as a code; "$12.00" and "CA$12.00" as a sign.
		symbol += " "
	}
	return sign(neg) + symbol + decimal(digits, scale)
}

// splitSign returns the digits of an integer string without leading zeros ("0" for zero).
func splitSign(s string) (neg bool, digits string, ok bool) {
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	if s == "" {
		return false, "", false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false, "", false
		}
	}
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return false, "0", true
	}
	return neg, s, true
}

func sign(neg bool) string {
	if neg {
		return "-"
	}
	return ""
}

// decimal places the point scale digits from the right, working on the digits themselves
// so no amount is rounded through a float.
func decimal(digits string, scale int) string {
	if scale <= 0 {
		return group(digits)
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	cut := len(digits) - scale
	return group(digits[:cut]) + "." + digits[cut:]
}

// group adds thousands separators to a string of digits.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// IsZeroAmount reports whether an amount is empty or zero, which Graph uses for "no spend cap".
func IsZeroAmount(amountMinor string) bool {
	amountMinor = strings.TrimSpace(amountMinor)
	if amountMinor == "" {
		return true
	}
	_, digits, ok := splitSign(amountMinor)
	return ok && digits == "0"
}

// Ago says how long before now t was: "just now", "3 minutes ago", "yesterday", then a date.
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < -45*time.Second:
		// A clock a little ahead should not read as the future; a lot ahead, say so.
		return Until(t, now)
	case d < 45*time.Second:
		return "just now"
	case d < 90*time.Second:
		return "1 minute ago"
	}
	if m := int((d + 30*time.Second) / time.Minute); m < 60 {
		return plural(m, "minute") + " ago"
	}
	if h := int((d + 30*time.Minute) / time.Hour); h < 24 {
		return plural(h, "hour") + " ago"
	}
	switch days := int(d / (24 * time.Hour)); {
	case days < 2:
		return "yesterday"
	case days < 7:
		return plural(days, "day") + " ago"
	}
	return Date(t)
}

// Until says how long from now t is: "in 53 days", "in 5 hours", or "expired 3 days ago"
// once it has passed. Days are whole days left, rounded down, as a deadline is read.
func Until(t, now time.Time) string {
	d := t.Sub(now)
	if d <= 0 {
		return "expired " + span(-d) + " ago"
	}
	switch {
	case d < time.Minute:
		return "in less than a minute"
	case d < time.Hour:
		return "in " + plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return "in " + plural(int(d/time.Hour), "hour")
	}
	return "in " + plural(int(d/(24*time.Hour)), "day")
}

// span is a past duration in the largest whole unit, for "expired … ago".
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}

// DaysLeft is the number of whole days until t, negative once t has passed.
func DaysLeft(t, now time.Time) int {
	d := t.Sub(now)
	if d < 0 {
		// Round away from zero, so a deadline passed an hour ago is -1, not 0.
		return -int((-d + 24*time.Hour - 1) / (24 * time.Hour))
	}
	return int(d / (24 * time.Hour))
}

// Exact is the time to the minute in UTC, for title attributes: "2026-12-01 15:04 UTC".
func Exact(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// Date is the day of t in UTC, for "Connected on 1 Dec 2026".
func Date(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

// Machine is t for a datetime attribute.
func Machine(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
