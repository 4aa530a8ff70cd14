package pgserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// passwordFile is where the superuser password lives, next to (not inside)
// the data directory so that only the process owner can read it.
const passwordFile = "superuser.password"

// loadPassword returns the stored superuser password, or "" if none exists.
func loadPassword(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, passwordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read superuser password: %w", err)
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" {
		return "", fmt.Errorf("superuser password file %s is empty", filepath.Join(dir, passwordFile))
	}
	return pw, nil
}

// createPassword generates a random password and stores it with mode 0600.
// It is written before initdb so that a crash between the two never leaves
// a cluster whose password nobody knows.
func createPassword(dir string) (string, error) {
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate superuser password: %w", err)
	}
	pw := hex.EncodeToString(buf)
	if err := os.WriteFile(filepath.Join(dir, passwordFile), []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write superuser password: %w", err)
	}
	return pw, nil
}

// writePwfile writes a copy of pw that initdb, running as id, can read. The
// caller removes it once initdb is done so the password is kept in one place.
func writePwfile(id *identity, dir, pw string) (string, error) {
	f, err := os.CreateTemp(dir, ".initdb-pwfile-*")
	if err != nil {
		return "", fmt.Errorf("create initdb password file: %w", err)
	}
	path := f.Name()
	_, werr := f.WriteString(pw + "\n")
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("write initdb password file: %w", err)
	}
	if err := id.chown(path); err != nil {
		_ = os.Remove(path)
		return "", err
	}
	return path, nil
}
