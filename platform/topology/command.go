package topology

import (
	"context"
	"io"
	"log/slog"

	"github.com/uptrace/bun"

	"mitosis/platform/config"
)

// Command is a maintenance command a module adds to the CLI, run as
// `app <module> <use>` against the module's own, migrated data.
type Command struct {
	Use   string // name and arguments, as cobra's Use
	Short string
	Args  int // exact number of arguments
	Run   func(ctx context.Context, env CommandEnv, args []string) error
}

// CommandEnv is what a module command gets.
type CommandEnv struct {
	Config config.Config
	DB     *bun.DB
	Log    *slog.Logger
	Out    io.Writer
}
