package e2e

import "mitosis/modules"

// withData names every module that keeps data, from the module list: each
// has its schema, migrations, outbox and inbox.
func withData() []string {
	var out []string
	for _, s := range modules.All() {
		if !s.Stateless {
			out = append(out, s.Name)
		}
	}
	return out
}
