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
	if value != "" {
		if len(value) < minSecretLen {
			return nil, fmt.Errorf("%s must be at least %d characters", name, minSecretLen)
		}
		return []byte(value), nil
	}
	if cfg.IsProduction() {
		return nil, fmt.Errorf("%s is required in production", name)
	}
	path := filepath.Join(cfg.DataDir, file)
	raw, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(raw))) >= minSecretLen {
		return []byte(strings.TrimSpace(string(raw))), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read development %s: %w", name, err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("generate %s: %w", name, err)
	}
	secret := hex.EncodeToString(buf)
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// O_EXCL: when several processes start at once, the first one's secret wins.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Secret(cfg, log, name, value, file)
	}
	if err != nil {
		return nil, fmt.Errorf("keep development %s: %w", name, err)
	}
	_, err = f.WriteString(secret + "\n")
	if err = errors.Join(err, f.Close()); err != nil {
		return nil, fmt.Errorf("keep development %s: %w", name, err)
	}
	log.Warn(name+" not set: generated a development secret; set "+name+" in production", "path", path)
	return []byte(secret), nil
}
