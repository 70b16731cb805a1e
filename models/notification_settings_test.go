package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/relink/relink/models"
)

func TestNotificationPrefs(t *testing.T) {
	type change = models.NotificationChange
	type modes = map[int64]models.NotificationMode
	w := newTenants(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		who     models.Principal
		changes func() []change
		want    func() models.NotificationPrefs
		wantErr error
	}{
		{
			name:    "nothing saved is right away, everywhere",
			who:     w.admin,
			changes: func() []change { return nil },
			want: func() models.NotificationPrefs {
				return models.NotificationPrefs{Default: models.NotifyImmediate, Overrides: modes{}}
			},
		},
		{
			name: "the default is updated in place",
			who:  w.owner,
			changes: func() []change {
				return []change{{Default: models.NotifyOff}, {Default: models.NotifyDigest}}
			},
			want: func() models.NotificationPrefs {
				return models.NotificationPrefs{Default: models.NotifyDigest, Overrides: modes{}}
			},
		},
		{
			name: "overrides are set, changed and removed; others are kept",
			who:  w.owner,
			changes: func() []change {
				return []change{
					{Default: models.NotifyImmediate, Overrides: modes{w.bluebird.ID: models.NotifyOff, w.cedar.ID: models.NotifyDigest}},
					{Default: models.NotifyOff, Overrides: modes{w.bluebird.ID: models.NotifyDigest}},
					{Default: models.NotifyOff, Overrides: modes{w.cedar.ID: models.NotifyInherit}},
				}
			},
			want: func() models.NotificationPrefs {
				return models.NotificationPrefs{Default: models.NotifyOff, Overrides: modes{w.bluebird.ID: models.NotifyDigest}}
			},
		},
		{
			name: "a sub-account out of reach is refused, and nothing is written",
			who:  w.admin,
			changes: func() []change {
				return []change{{Default: models.NotifyOff, Overrides: modes{w.bluebird.ID: models.NotifyDigest, w.cedar.ID: models.NotifyOff}}}
			},
			wantErr: models.ErrNotFound,
			want: func() models.NotificationPrefs {
				return models.NotificationPrefs{Default: models.NotifyImmediate, Overrides: modes{}}
			},
		},
		{
			name: "another agency's sub-account is refused",
			who:  w.owner,
			changes: func() []change {
				return []change{{Default: models.NotifyImmediate, Overrides: modes{w.alien.ID: models.NotifyOff}}}
			},
			wantErr: models.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case starts from the user's settings as the previous case left them,
			// so each case uses its own user where that matters.
			var err error
			for _, ch := range tt.changes() {
				if err = w.store.SaveNotificationPrefs(ctx, tt.who, ch); err != nil {
					break
				}
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.want == nil {
				return
			}
			got, err := w.store.NotificationPrefsOf(ctx, tt.who.User.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want()
			if got.Default != want.Default || len(got.Overrides) != len(want.Overrides) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
			for id, m := range want.Overrides {
				if got.Overrides[id] != m || got.For(id) != m {
					t.Errorf("sub-account %d: %q, want %q", id, got.Overrides[id], m)
				}
			}
			if n, err := w.store.DefaultSettingRows(ctx, tt.who.User.ID); err != nil || n > 1 {
				t.Errorf("%d default rows (%v), want at most one", n, err)
			}
		})
	}
}

func TestSaveNotificationPrefsKeepsOneDefaultRow(t *testing.T) {
	w := newTenants(t)
	ctx := context.Background()
	uid := w.owner.User.ID
	// Duplicates an older race could have left: the newest wins when reading.
	if err := w.store.InsertDefaultSetting(ctx, uid, models.NotifyOff); err != nil {
		t.Fatal(err)
	}
	if err := w.store.InsertDefaultSetting(ctx, uid, models.NotifyDigest); err != nil {
		t.Fatal(err)
	}
	if p, err := w.store.NotificationPrefsOf(ctx, uid); err != nil || p.Default != models.NotifyDigest {
		t.Fatalf("with two default rows read %+v, %v; want the newer (digest)", p, err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			m := models.NotificationModes[i%len(models.NotificationModes)]
			if err := w.store.SaveNotificationPrefs(ctx, w.owner, models.NotificationChange{Default: m}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, err := w.store.DefaultSettingRows(ctx, uid); err != nil || n != 1 {
		t.Fatalf("%d default rows after concurrent saves (%v), want 1", n, err)
	}
	// A user with no row yet, saved from many requests at once.
	var wg2 sync.WaitGroup
	for range 8 {
		wg2.Go(func() {
			if err := w.store.SaveNotificationPrefs(ctx, w.admin, models.NotificationChange{Default: models.NotifyOff}); err != nil {
				t.Error(err)
			}
		})
	}
	wg2.Wait()
	if n, err := w.store.DefaultSettingRows(ctx, w.admin.User.ID); err != nil || n != 1 {
		t.Fatalf("%d default rows for a new user after concurrent saves (%v), want 1", n, err)
	}
}

func TestParseNotificationMode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "right away", in: "immediate", ok: true},
		{name: "digest", in: "digest", ok: true},
		{name: "off", in: "off", ok: true},
		{name: "inherit is not a choice of its own", in: "", ok: false},
		{name: "unknown", in: "weekly", ok: false},
		{name: "case matters", in: "Off", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := models.ParseNotificationMode(tt.in); ok != tt.ok {
				t.Errorf("ParseNotificationMode(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
		})
	}
}
