package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/relink/relink/models"
)

// userCommand runs `user add`: it creates a user with a role. The password comes from
// standard input so that it never sits in shell history or the process list.
func userCommand(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return &usageError{"usage: relink user add --email EMAIL --role ROLE (--agency NAME|ID | --sub-account ID) [--name NAME]"}
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "display name")
	roleName := fs.String("role", "", "role")
	agency := fs.String("agency", "", "agency name or id, for agency roles")
	subAccount := fs.Int64("sub-account", 0, "sub-account id, for account roles")
	if err := fs.Parse(args[1:]); err != nil {
		return &usageError{"user add: " + err.Error()}
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("user add: unexpected argument %q (flags go before it, and a name with spaces goes in quotes)", fs.Arg(0))}
	}
	role, ok := models.ParseRole(*roleName)
	_, validEmail := models.NormalizeEmail(*email)
	switch {
	case *email == "":
		return &usageError{"user add: --email is required"}
	case !validEmail:
		return &usageError{fmt.Sprintf("user add: --email %q is not an email address", *email)}
	case !ok:
		return &usageError{fmt.Sprintf("user add: --role %q is not one of agency_owner, agency_admin, agency_user, account_admin, account_user, support", *roleName)}
	case role.IsAgencyRole() && *agency == "":
		return &usageError{"user add: an agency role needs --agency NAME or ID"}
	case role.IsAccountRole() && *subAccount == 0:
		return &usageError{"user add: an account role needs --sub-account ID"}
	case !role.IsAgencyRole() && *agency != "":
		return &usageError{fmt.Sprintf("user add: --agency goes with an agency role, not %s", role)}
	case !role.IsAccountRole() && *subAccount != 0:
		return &usageError{fmt.Sprintf("user add: --sub-account goes with an account role, not %s", role)}
	}
	password, err := readPassword(e.stdin)
	if err != nil {
		return err
	}
	store, err := openMigratedStore(ctx, e)
	if err != nil {
		return err
	}
	defer store.Close()

	nu := models.NewUser{Email: *email, Name: *name, Password: password, Role: role}
	var where string
	switch {
	case role.IsAgencyRole():
		a, err := findAgency(ctx, store, "user add", *agency)
		if err != nil {
			return err
		}
		where, nu.AgencyID = "agency "+a.Name, a.ID
	case role.IsAccountRole():
		sa, err := store.System().SubAccountByID(ctx, *subAccount)
		if errors.Is(err, models.ErrNotFound) {
			return &usageError{fmt.Sprintf("user add: no sub-account with id %d", *subAccount)}
		} else if err != nil {
			return err
		}
		where, nu.SubAccountID = "sub-account "+sa.Name, sa.ID
	default:
		where = "every agency (read-only)"
	}
	u, err := store.CreateUser(ctx, nu)
	if errors.Is(err, models.ErrConflict) {
		// Like a taken agency or sub-account name, a clash with what the operator typed.
		return &usageError{fmt.Sprintf("user add: a user with email %s already exists", *email)}
	} else if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created user %s (id %d) as %s of %s\n", u.Email, u.ID, role, where)
	return nil
}

// readPassword reads the first line of r.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < models.MinPasswordLength {
		return "", &usageError{fmt.Sprintf("user add: the password on standard input must have at least %d characters", models.MinPasswordLength)}
	}
	return pw, nil
}

// findAgency resolves --agency, a name or an id, for cmd; an agency that is not there, or a
// name several agencies share, is the operator's to fix and exits with status 2.
func findAgency(ctx context.Context, store *models.Store, cmd, nameOrID string) (models.Agency, error) {
	var notFound string
	a, err := models.Agency{}, models.ErrNotFound
	if id, perr := strconv.ParseInt(nameOrID, 10, 64); perr == nil {
		notFound = fmt.Sprintf("%s: no agency with id or name %q", cmd, nameOrID)
		a, err = store.System().AgencyByID(ctx, id)
	} else {
		notFound = fmt.Sprintf("%s: no agency named %q", cmd, nameOrID)
	}
	// An agency may be named with digits only: try the name next.
	if errors.Is(err, models.ErrNotFound) {
		a, err = store.AgencyByName(ctx, nameOrID)
	}
	switch {
	case errors.Is(err, models.ErrNotFound):
		return a, &usageError{notFound}
	case errors.Is(err, models.ErrAmbiguousName):
		return a, &usageError{fmt.Sprintf("%s: %s; give --agency ID", cmd, strings.TrimPrefix(err.Error(), models.ErrAmbiguousName.Error()+": "))}
	}
	return a, err
}
