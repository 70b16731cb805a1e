package models_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
)

func TestAgencyAndSubAccountNames(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	acme, err := s.CreateAgency(ctx, "  Acme Agency\t")
	if err != nil {
		t.Fatal(err)
	}
	if acme.Name != "Acme Agency" {
		t.Errorf("stored name %q, want it trimmed", acme.Name)
	}
	other, err := s.CreateAgency(ctx, "Other Agency")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSubAccount(ctx, acme.ID, "Bluebird Bakery"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		agency  bool   // CreateAgency; otherwise CreateSubAccount in Acme Agency
		value   string // the name given
		wantErr error
	}{
		{name: "agency at the length limit", agency: true, value: strings.Repeat("é", models.MaxNameLength)},
		{name: "agency one character too long", agency: true, value: strings.Repeat("é", models.MaxNameLength+1), wantErr: models.ErrInvalidName},
		{name: "agency with only spaces", agency: true, value: " \t ", wantErr: models.ErrInvalidName},
		{name: "agency with a newline", agency: true, value: "Evil\nAgency", wantErr: models.ErrInvalidName},
		{name: "agency with an escape sequence", agency: true, value: "Evil \x1b[31mAgency", wantErr: models.ErrInvalidName},
		{name: "agency with a C1 control", agency: true, value: "Evil\u0085Agency", wantErr: models.ErrInvalidName},
		{name: "agency that is not UTF-8", agency: true, value: "Evil \xff Agency", wantErr: models.ErrInvalidName},
		{name: "agency named like another", agency: true, value: "Acme Agency", wantErr: models.ErrConflict},
		{name: "agency named like another in other case and spacing", agency: true, value: "  aCME aGENCY ", wantErr: models.ErrConflict},
		{name: "agency named like another with non-ASCII case", agency: true, value: "ÉCOLE", wantErr: models.ErrConflict},
		{name: "sub-account too long", value: strings.Repeat("x", models.MaxNameLength+1), wantErr: models.ErrInvalidName},
		{name: "sub-account with a tab inside", value: "Blue\tbird", wantErr: models.ErrInvalidName},
		{name: "sub-account named like another of the agency", value: "BLUEBIRD BAKERY ", wantErr: models.ErrConflict},
		{name: "sub-account at the length limit", value: strings.Repeat("x", models.MaxNameLength)},
	}
	if _, err := s.CreateAgency(ctx, "école"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.agency {
				_, err = s.CreateAgency(ctx, tt.value)
			} else {
				_, err = s.CreateSubAccount(ctx, acme.ID, tt.value)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	// A sub-account name is unique within its agency only.
	if _, err := s.CreateSubAccount(ctx, other.ID, "Bluebird Bakery"); err != nil {
		t.Errorf("the same sub-account name in another agency: %v", err)
	}
}

func TestAgencyByName(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	acme, err := s.CreateAgency(ctx, "Acme Agency")
	if err != nil {
		t.Fatal(err)
	}
	// An old database may hold agencies that share a name.
	var twins []int64
	for _, name := range []string{"Twin Agency", "twin agency"} {
		a, err := s.InsertAgencyUnchecked(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		twins = append(twins, a.ID)
	}
	tests := []struct {
		name    string
		lookup  string
		wantID  int64
		wantErr error
		wantIDs []int64 // named by the error
	}{
		{name: "exact name", lookup: "Acme Agency", wantID: acme.ID},
		{name: "other case and spacing", lookup: " acme AGENCY ", wantID: acme.ID},
		{name: "unknown", lookup: "Nope", wantErr: models.ErrNotFound},
		{name: "shared by several agencies", lookup: "Twin Agency", wantErr: models.ErrAmbiguousName, wantIDs: twins},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := s.AgencyByName(ctx, tt.lookup)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && a.ID != tt.wantID {
				t.Errorf("found agency %d, want %d", a.ID, tt.wantID)
			}
			for _, id := range tt.wantIDs {
				if !strings.Contains(err.Error(), strconv.FormatInt(id, 10)) {
					t.Errorf("error %q does not name agency %d", err, id)
				}
			}
		})
	}
}

// Two operators adding the same agency at once get one agency between them.
func TestCreateAgencyConcurrently(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.CreateAgency(ctx, strings.Repeat(" ", i)+"Racing Agency")
			errs <- err
		}()
	}
	created := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			created++
		case !errors.Is(err, models.ErrConflict):
			t.Errorf("err = %v, want nil or ErrConflict", err)
		}
	}
	if created != 1 {
		t.Errorf("%d agencies created, want 1", created)
	}
}
