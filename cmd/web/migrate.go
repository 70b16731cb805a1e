package main

import (
	"context"
	"fmt"
)

// migrate applies every pending migration and exits: the step PostgreSQL deployments run
// before starting replicas.
func migrate(ctx context.Context, e env, args []string) error {
	if len(args) > 0 {
		return &usageError{"migrate takes no arguments"}
	}
	cfg, err := loadConfig(e.getenv)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "applied %d migration(s); the %s database is up to date\n", n, store.Dialect())
	return nil
}
