package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"mitosis/platform/config"
)

// minSecretLen keeps secrets (HS256 keys, key-encryption secrets) at least
// as long as the hash.
const minSecretLen = 32

// Secret returns the value of the secret variable name (given as value).
// In production it is required; in development a missing one is generated
// once and kept under the data directory in file, so restarts (and processes
// sharing the directory) keep working. Nothing ever falls back to a built-in
// secret.
func Secret(cfg config.Config, log *slog.Logger, name, value, file string) ([]byte, error) {
	if problem := CheckSecret(cfg, name, value); problem != "" {
		return nil, errors.New(problem)
	}
	if value != "" {
		return []byte(value), nil
	}
	path := filepath.Join(cfg.DataDir, file)
	secret, err := readSecret(path, name)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return secret, err
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("generate %s: %w", name, err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// Written aside, then linked into place: the file is complete whenever it
	// exists, and when processes start together the first link wins.
	tmp, err := os.CreateTemp(cfg.DataDir, "."+file+"-*")
	if err != nil {
		return nil, fmt.Errorf("keep development %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(buf) + "\n")
	if err = errors.Join(err, tmp.Close()); err != nil {
		return nil, fmt.Errorf("keep development %s: %w", name, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readSecret(path, name)
		}
		return nil, fmt.Errorf("keep development %s: %w", name, err)
	}
	log.Warn(name+" not set: generated a development secret; set "+name+" in production", "path", path)
	return []byte(hex.EncodeToString(buf)), nil
}

// CheckSecret says what is wrong with the secret variable name (given as
// value), or "" if nothing: too short wherever it is set, missing in
// production. The startup checks and Secret share it.
func CheckSecret(cfg config.Config, name, value string) string {
	switch {
	case value != "" && len(value) < minSecretLen:
		return fmt.Sprintf("%s must be at least %d characters", name, minSecretLen)
	case value == "" && cfg.IsProduction():
		return name + " is required in production"
	}
	return ""
}

func readSecret(path, name string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	secret := strings.TrimSpace(string(raw))
	if len(secret) < minSecretLen {
		return nil, fmt.Errorf("%s holds no valid development %s; delete it to generate a new one", path, name)
	}
	return []byte(secret), nil
}
