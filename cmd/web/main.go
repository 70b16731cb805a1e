// Command web is Relink: one binary that serves the dashboard, runs migrations and manages
// users. Run it without arguments to serve on the embedded default.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "relink:", err)
		var ce *configError
		var ue *usageError
		if errors.As(err, &ce) || errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a command line that does not parse; like a bad setting, it exits with 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// env is the process's surroundings, passed in so tests can run commands without globals.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// run dispatches to a subcommand; serve is the default.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, e, args)
	case "migrate":
		return migrate(ctx, e, args)
	case "user":
		return userCommand(ctx, e, args)
	case "agency":
		return agencyCommand(ctx, e, args)
	case "sub-account":
		return subAccountCommand(ctx, e, args)
	case "version", "--version", "-version":
		if len(args) > 0 {
			return &usageError{cmd + " takes no arguments"}
		}
		fmt.Fprintln(stdout, "relink", version())
		return nil
	case "help", "-h", "--help":
		if len(args) > 0 {
			return &usageError{fmt.Sprintf("%s takes no arguments\n%s", cmd, usage)}
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return &usageError{fmt.Sprintf("unknown command %q\n%s", cmd, usage)}
	}
}

const usage = `Usage: relink [command]

Commands:
  serve [--demo]    serve the dashboard (the default); --demo seeds the demo agency on an
                    empty database also on PostgreSQL, in production or with real providers
  migrate           apply database migrations and exit
  agency add NAME   create an agency
  sub-account add --agency NAME|ID NAME
                    create a sub-account in an agency
  user add          create a user; the password is read from standard input
                    --email EMAIL --role ROLE (--agency NAME|ID | --sub-account ID) [--name NAME]
                    roles: agency_owner, agency_admin, agency_user, account_admin, account_user, support
  version           print the version

Configuration comes from environment variables; see the README.
`
