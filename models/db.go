package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3/gormlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/relink/relink/migrations"
	"github.com/relink/relink/providers"
)

// Dialects Relink runs on.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Store is Relink's database: every read and write of the domain goes through its methods,
// each scoped by the tenant in its signature. Tx runs several of them in one transaction;
// System is the separate, unscoped view for jobs and the command line.
type Store struct {
	db      *gorm.DB
	sql     *sql.DB
	dialect string
	clock   providers.Clock
	// url is the PostgreSQL URL; empty on SQLite.
	url string
	// inTx is set on the Store that Tx hands to its function.
	inTx        bool
	cheapHashes bool
}

// OpenOptions says which database to open.
type OpenOptions struct {
	// URL is a postgres:// or postgresql:// URL; empty means the SQLite file SQLitePath.
	URL string
	// SQLitePath is the SQLite database file used when URL is empty.
	SQLitePath string
	// Clock is the clock the store stamps rows with (the sandbox's in sandbox mode, so that
	// history and expiry agree with it); the wall clock when nil.
	Clock providers.Clock
	// CheapPasswordHashes hashes new passwords with tiny argon2id parameters: for tests
	// only, where every test site creates users.
	CheapPasswordHashes bool
}

// IsPostgresURL reports whether url names a PostgreSQL database.
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// SQLiteDSN is the driver DSN for the SQLite file at path: WAL so readers never wait on the
// writer, a busy timeout, foreign keys on, and immediate transactions, without which two
// read-then-write transactions fail with SQLITE_BUSY instead of waiting. Its files are
// created readable by their owner only.
func SQLiteDSN(path string) string {
	registerPrivateVFS()
	q := url.Values{}
	q.Set("vfs", privateVFS)
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "synchronous(normal)")
	q.Set("_txlock", "immediate")
	// Fixed-width UTC text keeps times ordered when compared as strings.
	q.Set("_timefmt", "sqlite")
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}

// Open connects to the database; it does not migrate.
func Open(ctx context.Context, opts OpenOptions) (*Store, error) {
	clock := opts.Clock
	if clock == nil {
		clock = providers.SystemClock{}
	}
	cfg := &gorm.Config{
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return clock.Now().UTC().Truncate(time.Second) },
		TranslateError: true,
		// Single statements need no BEGIN/COMMIT around them; multi-statement writes use
		// Transaction explicitly.
		SkipDefaultTransaction: true,
	}
	var (
		dialector gorm.Dialector
		dialect   string
	)
	switch {
	case IsPostgresURL(opts.URL):
		dialector, dialect = postgres.Open(opts.URL), DialectPostgres
	case opts.URL != "":
		return nil, fmt.Errorf("models: unsupported database URL scheme (want postgres:// or empty for SQLite)")
	default:
		if opts.SQLitePath == "" {
			return nil, errors.New("models: no SQLite path")
		}
		if err := os.MkdirAll(filepath.Dir(opts.SQLitePath), 0o700); err != nil {
			return nil, fmt.Errorf("models: create database directory: %w", err)
		}
		if err := restrictSQLiteFiles(opts.SQLitePath); err != nil {
			return nil, err
		}
		dialector, dialect = gormlite.Open(SQLiteDSN(opts.SQLitePath)), DialectSQLite
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("models: open %s: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("models: open %s: %w", dialect, err)
	}
	if dialect == DialectPostgres {
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
	} else {
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, sql: sqlDB, dialect: dialect, clock: clock, cheapHashes: opts.CheapPasswordHashes}
	if dialect == DialectPostgres {
		s.url = opts.URL
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// SQLDB is the database handle underneath, for River's SQLite driver, which runs its jobs in
// the same database file.
func (s *Store) SQLDB() *sql.DB { return s.sql }

// PostgresURL is the URL the store was opened with on PostgreSQL (River opens its own pgx
// pool on it); empty on SQLite.
func (s *Store) PostgresURL() string { return s.url }

// Dialect names the database in use: DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// Now is the store's clock, in UTC.
func (s *Store) Now() time.Time { return s.clock.Now().UTC() }

// Tx runs fn in one database transaction: every store method called on tx commits with the
// others or not at all. Inside a transaction, Tx joins it rather than nesting. fn's error
// (or a panic) rolls back.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	return s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		tx := *s
		tx.db, tx.inTx = db, true
		return fn(&tx)
	})
}

// Savepoint runs fn inside the current transaction as a unit of its own: when fn fails, what
// it wrote is undone and the transaction goes on, so one bad row of a batch does not sink
// the others. Outside a transaction it is Tx.
func (s *Store) Savepoint(ctx context.Context, fn func(tx *Store) error) error {
	if !s.inTx {
		return s.Tx(ctx, fn)
	}
	// gorm runs a transaction begun inside another as a savepoint.
	return s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		tx := *s
		tx.db = db
		return fn(&tx)
	})
}

// SQLTx is the database/sql transaction Tx runs on, for libraries that must commit with it
// (River's InsertTx); nil outside Tx.
func (s *Store) SQLTx() *sql.Tx {
	if !s.inTx {
		return nil
	}
	tx, _ := s.db.Statement.ConnPool.(*sql.Tx)
	return tx
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("models: ping: %w", err)
	}
	return nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error { return s.sql.Close() }

func (s *Store) migrator() (*goose.Provider, error) {
	var (
		fsys    fs.FS
		dialect goose.Dialect
		opts    []goose.ProviderOption
		err     error
	)
	switch s.dialect {
	case DialectPostgres:
		fsys, err = fs.Sub(migrations.Postgres, "postgres")
		dialect = goose.DialectPostgres
		// Replicas started together take turns instead of racing on the same migration.
		locker, lerr := lock.NewPostgresSessionLocker()
		if lerr != nil {
			return nil, fmt.Errorf("models: migration lock: %w", lerr)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		fsys, err = fs.Sub(migrations.SQLite, "sqlite")
		dialect = goose.DialectSQLite3
	}
	if err != nil {
		return nil, fmt.Errorf("models: migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, s.sql, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("models: migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration and returns how many ran.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	p, err := s.migrator()
	if err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("models: migrate: %w", err)
	}
	return len(results), nil
}

// CheckMigrated returns ErrNotMigrated when any embedded migration has not been applied.
func (s *Store) CheckMigrated(ctx context.Context) error {
	p, err := s.migrator()
	if err != nil {
		return err
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("models: migration status: %w", err)
	}
	if current < target {
		return fmt.Errorf("%w: at version %d of %d", ErrNotMigrated, current, target)
	}
	return nil
}

// dbError maps GORM's not-found and duplicate-key errors to ErrNotFound and ErrConflict,
// and wraps every other error with the operation that failed.
func dbError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("models: %s: %w", op, ErrConflict)
	default:
		return fmt.Errorf("models: %s: %w", op, err)
	}
}
