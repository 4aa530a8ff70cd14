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

// minSecretLen keeps HS256 keys at least as long as the hash.
const minSecretLen = 32

// Secret returns JWT_SECRET. In production it is required; in development a
// missing one is generated once and kept under the data directory, so
// restarts (and processes sharing the directory) keep accepting tokens.
func Secret(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if s := cfg.Auth.JWTSecret; s != "" {
		if len(s) < minSecretLen {
			return nil, fmt.Errorf("JWT_SECRET must be at least %d characters", minSecretLen)
		}
		return []byte(s), nil
	}
	if cfg.IsProduction() {
		return nil, errors.New("JWT_SECRET is required in production")
	}
	path := filepath.Join(cfg.DataDir, "jwt_secret")
	raw, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(raw))) >= minSecretLen {
		return []byte(strings.TrimSpace(string(raw))), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read development JWT secret: %w", err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("generate JWT secret: %w", err)
	}
	secret := hex.EncodeToString(buf)
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// O_EXCL: when several processes start at once, the first one's secret wins.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Secret(cfg, log)
	}
	if err != nil {
		return nil, fmt.Errorf("keep development JWT secret: %w", err)
	}
	_, err = f.WriteString(secret + "\n")
	if err = errors.Join(err, f.Close()); err != nil {
		return nil, fmt.Errorf("keep development JWT secret: %w", err)
	}
	log.Warn("JWT_SECRET not set: generated a development secret; set JWT_SECRET in production", "path", path)
	return []byte(secret), nil
}
