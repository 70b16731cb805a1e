package models

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/ncruces/go-sqlite3/vfs"
)

// privateVFS is the name the SQLite DSN selects privateFiles by.
const privateVFS = "relink-private"

var registerPrivateVFS = sync.OnceFunc(func() {
	vfs.Register(privateVFS, privateFiles{vfs.Find("os")})
})

// privateFiles is the driver's own file system, except that every file it creates is 0600.
// The driver creates the database, WAL and shared-memory index 0666 less the umask, and only
// the WAL can be told to copy the database's mode (the modeof URI parameter); the
// shared-memory index is made again whenever the last connection closes, so setting modes
// once at open would not last. Creating each file 0600 just before the driver opens it
// (the driver then opens the existing file) does, without touching the process's umask.
type privateFiles struct{ vfs.VFS }

// OpenFilename creates the file the driver is about to create, and with a WAL its
// shared-memory index, 0600; the driver then opens them as it always does.
func (p privateFiles) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	// An exclusive open must create the file itself, and a nameless one is a temporary file
	// the driver makes 0600 already.
	if name != nil && flags&vfs.OPEN_CREATE != 0 && flags&vfs.OPEN_EXCLUSIVE == 0 {
		createPrivate(name.String())
	}
	// The WAL is opened while the connection holds a shared lock on the database, so no
	// other connection can remove the index between this and the driver mapping it.
	if name != nil && flags&vfs.OPEN_WAL != 0 {
		if db := name.Database(); db != "" {
			createPrivate(db + "-shm")
		}
	}
	if f, ok := p.VFS.(vfs.VFSFilename); ok {
		return f.OpenFilename(name, flags)
	}
	return p.VFS.Open(name.String(), flags)
}

// createPrivate creates an empty file 0600 unless one exists. Failures are left for the
// driver's own open to report.
func createPrivate(path string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_ = f.Close()
	}
}

// restrictSQLiteFiles takes group and other permissions away from the database files an
// earlier version, a copy or a restore left readable.
func restrictSQLiteFiles(path string) error {
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("models: %w", err)
		}
		if info.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(f, 0o600); err != nil {
			return fmt.Errorf("models: make %s readable by its owner only: %w", f, err)
		}
	}
	return nil
}
