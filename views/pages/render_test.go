package pages_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/relink/relink/views/layouts"
)

// now is the clock every sample is rendered against.
var now = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// at is a time d before now (after it, for a negative d), as a pointer the models use.
func at(d time.Duration) *time.Time {
	t := now.Add(-d)
	return &t
}

func ptr[T any](v T) *T { return &v }

const day = 24 * time.Hour

// page is the frame of a signed-in admin's page.
var page = layouts.Page{Title: "Cedar Dental", Email: "owner@northwind.test", RoleLabel: "Agency owner", Section: "connections"}

// render renders c and parses it as a document.
func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	return parse(t, renderString(t, c))
}

func renderString(t *testing.T, c templ.Component) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	return buf.String()
}

func parse(t *testing.T, html string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

// renderRow renders a table row inside a table: an HTML parser drops a <tr> found anywhere
// else, as a browser would.
func renderRow(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	return parse(t, "<table><tbody>"+renderString(t, c)+"</tbody></table>")
}

// text is the text of a selection with its whitespace collapsed, as a reader sees it.
func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

// one returns the single element matching sel, failing the test when there are none or more.
func one(t *testing.T, doc *goquery.Document, sel string) *goquery.Selection {
	t.Helper()
	s := doc.Find(sel)
	if s.Length() != 1 {
		t.Fatalf("%d elements match %s, want 1", s.Length(), sel)
	}
	return s
}

func attr(s *goquery.Selection, name string) string {
	v, _ := s.Attr(name)
	return v
}
