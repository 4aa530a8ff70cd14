package pgserver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ResolveDir returns the base directory Start will use for preferred.
//
// As root the server runs as the "postgres" user, which often cannot reach a
// checkout under /root (mode 0700). Rather than loosening permissions on the
// user's home, the data then moves to /var/lib/mitosis/<hash> (or
// /var/tmp/mitosis-<hash> when /var/lib is not writable), where <hash> is
// derived from the absolute preferred path so every checkout keeps its own,
// stable cluster. moved reports that fallback. As any other user preferred
// is used as is.
func ResolveDir(preferred string) (dir string, moved bool, err error) {
	dir, reason, err := resolveDir(preferred)
	return dir, reason != "", err
}

// resolveDir is ResolveDir plus the reason for a move, which Start logs.
func resolveDir(preferred string) (dir, reason string, err error) {
	abs, err := filepath.Abs(preferred)
	if err != nil {
		return "", "", fmt.Errorf("resolve %s: %w", preferred, err)
	}
	id, err := serverIdentity()
	if err != nil {
		return "", "", err
	}
	if id.cred == nil {
		return abs, "", nil
	}
	reason, err = unusableReason(id, abs)
	if err != nil || reason == "" {
		return abs, "", err
	}
	sum := sha256.Sum256([]byte(abs))
	hash := hex.EncodeToString(sum[:])[:12]
	var errs []error
	for _, candidate := range []struct{ parent, name string }{
		{"/var/lib/mitosis", hash},
		{"/var/tmp", "mitosis-" + hash},
	} {
		fallback := filepath.Join(candidate.parent, candidate.name)
		if err := makeFallback(id, candidate.parent, fallback); err != nil {
			errs = append(errs, err)
			continue
		}
		return fallback, reason, nil
	}
	return "", "", fmt.Errorf("%s is not usable (%s) and no fallback directory could be created: %w",
		abs, reason, errors.Join(errs...))
}

// unusableReason explains why id cannot use dir, or returns "" if it can.
// A missing dir is fine as long as its nearest existing ancestor can be
// traversed, because ensureDir creates the rest with traversable modes.
func unusableReason(id *identity, dir string) (string, error) {
	existing := dir
	for {
		_, err := os.Stat(existing)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("stat %s: %w", existing, err)
		}
		existing = filepath.Dir(existing)
	}
	if !id.can("-x", existing) {
		return fmt.Sprintf("user %s cannot traverse %s or one of its parents", id.name, existing), nil
	}
	if existing == dir && !id.can("-w", dir) {
		return fmt.Sprintf("user %s cannot write into %s", id.name, dir), nil
	}
	return "", nil
}

// makeFallback creates fallback owned by id. An existing directory is only
// reused if it belongs to root or id, so nobody can plant a directory in
// /var/tmp for us to adopt.
func makeFallback(id *identity, parent, fallback string) error {
	if err := ensureDir(id, parent, false); err != nil {
		return err
	}
	fi, err := os.Lstat(fallback)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := ensureDir(id, fallback, true); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("stat %s: %w", fallback, err)
	case !fi.IsDir():
		return fmt.Errorf("%s exists and is not a directory", fallback)
	default:
		if owner, ok := ownerUID(fi); !ok || (owner != 0 && owner != id.uid) {
			return fmt.Errorf("%s exists and is owned by uid %d, not root or %s", fallback, owner, id.name)
		}
		if err := id.chown(fallback); err != nil {
			return err
		}
	}
	reason, err := unusableReason(id, fallback)
	if err != nil {
		return err
	}
	if reason != "" {
		return errors.New(reason)
	}
	return nil
}

// ensureDir creates dir and any missing parents with mode 0755 regardless of
// umask, so the server user can traverse them; when own is set, a newly
// created dir itself is handed to id.
func ensureDir(id *identity, dir string, own bool) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := ensureDir(id, parent, false); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // created concurrently; leave its owner's choices alone
		}
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	if own {
		return id.chown(dir)
	}
	return nil
}
