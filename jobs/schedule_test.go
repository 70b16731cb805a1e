package jobs

import (
	"testing"
	"time"
)

func TestDailyAtNext(t *testing.T) {
	d := dailyAt{hour: 7}
	tests := []struct {
		name string
		at   string
		want string
	}{
		{name: "before the hour", at: "2026-12-01T06:59:59Z", want: "2026-12-01T07:00:00Z"},
		{name: "at the hour", at: "2026-12-01T07:00:00Z", want: "2026-12-02T07:00:00Z"},
		{name: "after the hour", at: "2026-12-01T18:00:00Z", want: "2026-12-02T07:00:00Z"},
		{name: "another zone", at: "2026-12-31T23:30:00-05:00", want: "2027-01-01T07:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, _ := time.Parse(time.RFC3339, tt.at)
			if got := d.Next(at).Format(time.RFC3339); got != tt.want {
				t.Errorf("Next(%s) = %s, want %s", tt.at, got, tt.want)
			}
		})
	}
}
