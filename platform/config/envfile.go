package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"strings"

	"github.com/joho/godotenv"
)

// The files read in development, in the working directory; the later wins.
var developmentEnvFiles = []string{".env", ".env.local"}

// WithEnvFiles layers env files under getenv: the process environment wins
// over them. ENV_FILE names the one file to read (it must exist); without
// it, development reads .env and then .env.local from the working directory
// when they exist, and production reads none, so what a production process
// runs with is what its environment says. The files are read, never
// exported into the process environment.
func WithEnvFiles(getenv Getenv) (Getenv, error) {
	files, required := developmentEnvFiles, false
	if path := strings.TrimSpace(getenv("ENV_FILE")); path != "" {
		files, required = []string{path}, true
	} else if strings.TrimSpace(getenv("APP_ENV")) == Production {
		return getenv, nil
	}
	vars := map[string]string{}
	for _, file := range files {
		read, err := godotenv.Read(file)
		if errors.Is(err, fs.ErrNotExist) && !required {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("env file %s: %w", file, err)
		}
		maps.Copy(vars, read)
	}
	if len(vars) == 0 {
		return getenv, nil
	}
	return func(key string) string {
		if v := getenv(key); strings.TrimSpace(v) != "" {
			return v
		}
		return vars[key]
	}, nil
}
