package notify

import (
	"fmt"
	"strings"
)

// renderText is the plain-text part of an email: the same content as the HTML part, laid
// out for a reader without HTML (and for the ones that show both).
func renderText(c content) string {
	var b strings.Builder
	para := func(lines ...string) {
		if len(lines) == 0 {
			return
		}
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	para(c.Greeting)
	para(c.Heading)
	for _, p := range c.Intro {
		para(p)
	}
	facts := make([]string, len(c.Facts))
	for i, f := range c.Facts {
		facts[i] = f.Label + ": " + f.Value
	}
	para(facts...)
	if len(c.Steps) > 0 {
		lines := []string{c.StepsTitle + ":"}
		for i, s := range c.Steps {
			lines = append(lines, fmt.Sprintf("%d. %s", i+1, s))
		}
		para(lines...)
	}
	if c.Action != nil {
		para(c.Action.Label + ": " + c.Action.URL)
	}
	if len(c.Impact) > 0 {
		lines := []string{c.ImpactTitle + ":"}
		for _, s := range c.Impact {
			lines = append(lines, "- "+s)
		}
		para(lines...)
	}
	for _, it := range c.Items {
		lines := []string{"- " + it.Title + " (" + it.When + ")"}
		if it.URL != "" {
			lines = append(lines, "  "+it.LinkLabel+": "+it.URL)
		}
		para(lines...)
	}
	for _, n := range c.Notes {
		para(n)
	}
	// "-- " on its own line is the signature separator mail clients recognise.
	b.WriteString("-- \n")
	for _, f := range c.Footer {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	if c.SettingsURL != "" {
		b.WriteString("Choose which emails you get: " + c.SettingsURL + "\n")
	}
	return b.String()
}
