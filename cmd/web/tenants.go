package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/relink/relink/models"
)

// agencyCommand runs `agency add NAME`: the first step of a deployment without demo data.
func agencyCommand(ctx context.Context, e env, args []string) error {
	if len(args) != 2 || args[0] != "add" || strings.TrimSpace(args[1]) == "" {
		return &usageError{"usage: relink agency add NAME"}
	}
	store, err := openMigratedStore(ctx, e)
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := store.CreateAgency(ctx, args[1])
	if err != nil {
		return nameError("agency add", args[1], err)
	}
	fmt.Fprintf(e.stdout, "created agency %s (id %d)\n", a.Name, a.ID)
	return nil
}

// subAccountCommand runs `sub-account add --agency NAME|ID NAME`.
func subAccountCommand(ctx context.Context, e env, args []string) error {
	const use = "usage: relink sub-account add --agency NAME|ID NAME"
	if len(args) == 0 || args[0] != "add" {
		return &usageError{use}
	}
	fs := flag.NewFlagSet("sub-account add", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	agency := fs.String("agency", "", "agency name or id")
	if err := fs.Parse(args[1:]); err != nil {
		return &usageError{"sub-account add: " + err.Error()}
	}
	if *agency == "" || fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
		return &usageError{use}
	}
	store, err := openMigratedStore(ctx, e)
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := findAgency(ctx, store, "sub-account add", *agency)
	if err != nil {
		return err
	}
	sa, err := store.CreateSubAccount(ctx, a.ID, fs.Arg(0))
	if err != nil {
		return nameError("sub-account add", fs.Arg(0), err)
	}
	fmt.Fprintf(e.stdout, "created sub-account %s (id %d) in agency %s\n", sa.Name, sa.ID, a.Name)
	return nil
}

// nameError turns a name the store refused into a usage error of cmd: what the operator
// typed is at fault, so it exits with status 2.
func nameError(cmd, name string, err error) error {
	var invalid *models.NameError
	var taken *models.NameTakenError
	switch {
	case errors.As(err, &invalid):
		return &usageError{fmt.Sprintf("%s: the name %s", cmd, invalid.Reason)}
	case errors.As(err, &taken):
		return &usageError{fmt.Sprintf("%s: %s %d is already named %q (names are compared ignoring case)", cmd, taken.Kind, taken.ID, taken.Name)}
	case errors.Is(err, models.ErrConflict):
		return &usageError{fmt.Sprintf("%s: the name %q is taken", cmd, strings.TrimSpace(name))}
	}
	return err
}

// openMigratedStore opens the configured database for a command that needs its schema.
func openMigratedStore(ctx context.Context, e env) (*models.Store, error) {
	cfg, err := loadConfig(e.getenv)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, e, cfg)
	if err != nil {
		return nil, err
	}
	if err := store.CheckMigrated(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("%w; run `relink migrate` first", err)
	}
	return store, nil
}
