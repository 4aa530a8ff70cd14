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
	secret, err := readSecret(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return secret, err
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("generate JWT secret: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// Written aside, then linked into place: the file is complete whenever it
	// exists, and when processes start together the first link wins.
	tmp, err := os.CreateTemp(cfg.DataDir, ".jwt_secret-*")
	if err != nil {
		return nil, fmt.Errorf("keep development JWT secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(buf) + "\n")
	if err = errors.Join(err, tmp.Close()); err != nil {
		return nil, fmt.Errorf("keep development JWT secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readSecret(path)
		}
		return nil, fmt.Errorf("keep development JWT secret: %w", err)
	}
	log.Warn("JWT_SECRET not set: generated a development secret; set JWT_SECRET in production", "path", path)
	return []byte(hex.EncodeToString(buf)), nil
}

func readSecret(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	secret := strings.TrimSpace(string(raw))
	if len(secret) < minSecretLen {
		return nil, fmt.Errorf("%s holds no valid development JWT secret; delete it to generate a new one", path)
	}
	return []byte(secret), nil
}
