// Package migrations embeds every module's SQL migrations, one folder per
// module (migrations/<module>/), so the binary migrates from anywhere.
package migrations

import "embed"

// FS holds migrations/<module>/*.sql.
//
//go:embed users orders payments
var FS embed.FS
