// Package migrations embeds every module's SQL migrations, one folder per
// module (migrations/<module>/), so the binary migrates from anywhere.
package migrations

import (
	"embed"
	"io/fs"

	"mitosis/platform/db"
	"mitosis/platform/events"
)

// FS holds migrations/<module>/*.sql: the whole tree, so a new module's
// folder is embedded without naming it here (modules_test checks that
// every folder has its module and every module its folder).
//
//go:embed */*.sql
var FS embed.FS

// Tree is every module's migrations plus the sets each module's schema
// shares (the events outbox and inbox).
func Tree() db.Migrations {
	return db.Migrations{FS: FS, Shared: []fs.FS{events.Migrations}}
}
