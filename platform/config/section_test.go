package config_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
)

// shelf is a module's own settings, as a module would declare them.
type shelf struct {
	Wait     time.Duration `yaml:"wait" env:"WAIT"`
	Size     int           `yaml:"size" env:"SIZE"`
	Loud     bool          `yaml:"loud" env:"LOUD"`
	Name     string        `yaml:"name" env:"NAME"`
	Aisles   []string      `yaml:"aisles" env:"AISLES"`
	Untagged string        `yaml:"untagged"`
}

func (s *shelf) Validate() []string {
	if s.Size < 1 {
		return []string{"SHELF_SIZE must be positive"}
	}
	return nil
}

var shelfSection = config.NewSection("orders", "SHELF", func(env string) shelf {
	s := shelf{Wait: time.Second, Size: 3, Name: "main"}
	if env == config.Development {
		s.Size = 30
	}
	return s
})

func loadShelf(t *testing.T, vars map[string]string) (shelf, error) {
	t.Helper()
	cfg, err := config.Load(env(vars), modules, shelfSection)
	return config.SectionOf[shelf](cfg, "orders"), err
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

// A section starts from the module's defaults for the environment, then
// its file keys, then its variables.
func TestSectionLayers(t *testing.T) {
	s, err := loadShelf(t, nil)
	require.NoError(t, err)
	assert.Equal(t, shelf{Wait: time.Second, Size: 30, Name: "main"}, s, "development defaults")
	s, err = loadShelf(t, map[string]string{"APP_ENV": "production", "SERVICE_SECRET": "x", "SIGNING_KEY_SECRET": "y"})
	require.NoError(t, err)
	assert.Equal(t, 3, s.Size, "production defaults")

	path := writeFile(t, "modules:\n  orders:\n    url: http://orders:8080\n    wait: 2s\n    size: 4\n    untagged: from-file\n")
	s, err = loadShelf(t, map[string]string{"CONFIG_FILE": path})
	require.NoError(t, err)
	assert.Equal(t, shelf{Wait: 2 * time.Second, Size: 4, Name: "main", Untagged: "from-file"}, s)

	s, err = loadShelf(t, map[string]string{"CONFIG_FILE": path, "SHELF_WAIT": "5ms", "SHELF_SIZE": "9",
		"SHELF_LOUD": "true", "SHELF_NAME": "back", "SHELF_AISLES": "a, b"})
	require.NoError(t, err)
	assert.Equal(t, shelf{Wait: 5 * time.Millisecond, Size: 9, Loud: true, Name: "back", Aisles: []string{"a", "b"}, Untagged: "from-file"}, s)
	cfg, err := config.Load(env(map[string]string{"CONFIG_FILE": path}), modules, shelfSection)
	require.NoError(t, err)
	assert.Equal(t, "http://orders:8080", cfg.Module("orders").URL, "the platform's keys beside the section's")
}

// Bad values are named with everything else wrong, and the section's own
// checks join them.
func TestSectionProblems(t *testing.T) {
	_, err := loadShelf(t, map[string]string{"SHELF_WAIT": "soon", "SHELF_SIZE": "0", "SHELF_LOUD": "maybe", "CALL_TIMEOUT": "0s"})
	var problems config.Problems
	require.ErrorAs(t, err, &problems)
	assert.ElementsMatch(t, config.Problems{
		`SHELF_WAIT must be a duration like 5s, got "soon"`,
		`SHELF_LOUD must be true or false, got "maybe"`,
		"SHELF_SIZE must be positive",
		"CALL_TIMEOUT must be positive",
	}, problems)
}

// A module key that no setting has, a module the binary lacks, or keys
// for a module without settings are refused, each named with its line.
func TestUnknownModuleKeysAreRefused(t *testing.T) {
	path := writeFile(t, "modules:\n  orders:\n    wiat: 2s\n    database: {isolaton: shared}\n  inventory:\n    url: http://x\n  users:\n    size: 3\n")
	_, err := loadShelf(t, map[string]string{"CONFIG_FILE": path})
	require.Error(t, err)
	assert.ErrorContains(t, err, "modules.orders.wiat (line 3): unknown key")
	assert.ErrorContains(t, err, "modules.orders.database.isolaton (line 4): unknown key")
	assert.ErrorContains(t, err, "modules.inventory (line 6): no such module; modules are users, orders, payments")
	assert.ErrorContains(t, err, "modules.users.size (line 8): unknown key; users has no settings of its own")
}

// A module may declare only its default isolation: its own database
// unless a file or its variable says otherwise.
func TestSectionIsolation(t *testing.T) {
	own := config.Section{Module: "payments", Isolation: config.Isolated}
	cfg, err := config.Load(env(map[string]string{"PAYMENTS_DATABASE_URL": "postgres://p@db/payments"}), modules, own)
	require.NoError(t, err)
	assert.Equal(t, config.Isolated, cfg.Isolation("payments"))
	assert.Equal(t, config.Shared, cfg.Isolation("orders"))
	cfg, err = config.Load(env(map[string]string{"PAYMENTS_DATABASE_ISOLATION": "shared"}), modules, own)
	require.NoError(t, err)
	assert.Equal(t, config.Shared, cfg.Isolation("payments"), "the variable wins over the module's default")
}
