package providers_test

import (
	"os"
	"strings"
	"testing"

	"github.com/relink/relink/providers"
)

// The README's table of reasons is what a newcomer and support read: it must say exactly
// what users are shown.
func TestReadmeDocumentsEveryReason(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		rows[strings.Trim(cells[0], "`")] = cells
	}
	for _, r := range providers.AllReasons() {
		cells, ok := rows[r.String()]
		if !ok {
			t.Errorf("README.md has no row for the reason %s", r)
			continue
		}
		if len(cells) < 5 {
			t.Errorf("the README's row for %s has %d cells, want 5", r, len(cells))
			continue
		}
		if cells[1] != r.Message() {
			t.Errorf("README.md says %s means %q; users are shown %q", r, cells[1], r.Message())
		}
		if cells[2] != r.Fix() {
			t.Errorf("README.md says the fix for %s is %q; users are shown %q", r, cells[2], r.Fix())
		}
	}
}
