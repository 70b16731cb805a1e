package connection

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relink/relink/models"
	"github.com/relink/relink/models/storetest"
)

func TestProviderCallsAreBounded(t *testing.T) {
	t.Parallel()
	cipher, _ := models.NewCipher(make([]byte, 32))
	s, err := New(Config{Store: storetest.Open(t), Cipher: cipher, MaxCalls: 2, CallWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := s.slot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.slot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.slot(ctx); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("a third call at once: %v, want ErrOverloaded", err)
	}
	first()
	third, err := s.slot(ctx)
	if err != nil {
		t.Fatalf("a slot given back is not reused: %v", err)
	}
	second()
	third()
	full1, err1 := s.slot(ctx)
	full2, err2 := s.slot(ctx)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	defer full1()
	defer full2()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.slot(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled request waiting for a slot: %v, want context.Canceled", err)
	}
}
