package scaffold

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The deployment's files that name every module: the chart's copy of the
// module graph (what `app graph` prints once the module is in the list,
// which a deployment test compares), and the split examples, which must
// run every module once (the new one gets a process of its own there).
const (
	graphPath   = "deploy/helm/mitosis/files/modules.yaml"
	composePath = "deploy/compose/docker-compose.yml"
)

// splitValues are the chart's example placements with a group per module.
var splitValues = []string{"deploy/helm/mitosis/ci/split-values.yaml", "deploy/helm/mitosis/ci/split-isolated-values.yaml"}

// deployEdits returns the deployment files with the module added, by path;
// a file the repository does not have is left out. An isolated module
// needs a database a person chooses, so only the graph names it.
func deployEdits(root string, d data) (map[string][]byte, error) {
	out := map[string][]byte{}
	edit := func(path string, add func(string, data) (string, error)) error {
		raw, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		text, err := add(string(raw), d)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		out[path] = []byte(text)
		return nil
	}
	if err := edit(graphPath, addToGraph); err != nil {
		return nil, err
	}
	if d.Isolated {
		return out, nil
	}
	if err := edit(composePath, addToCompose); err != nil {
		return nil, err
	}
	for _, p := range splitValues {
		if err := edit(p, addToGroups); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// addToGraph adds the module's entry before the front module's (or last),
// as `app graph` lists the modules in the order of modules.All.
func addToGraph(text string, d data) (string, error) {
	list := func(items []string) string {
		if len(items) == 0 {
			return " []\n"
		}
		var b strings.Builder
		b.WriteString("\n")
		for _, it := range items {
			b.WriteString("      - " + it + "\n")
		}
		return b.String()
	}
	var events []string
	for _, e := range d.Events {
		events = append(events, e.Type)
	}
	entry := "  - name: " + d.Name + "\n" +
		"    depends_on:" + list(d.Depends) +
		"    publishes:" + list(events) +
		"    subscribes: []\n" +
		"    stateless: false\n" +
		"    issues_tokens: false\n"
	if i := strings.Index(text, "  - name: "+d.Front+"\n"); d.Front != "" && i >= 0 {
		return text[:i] + entry + text[i:], nil
	}
	return strings.TrimRight(text, "\n") + "\n" + entry, nil
}

var (
	composeURL      = regexp.MustCompile(`(?m)^  [A-Z0-9]+_URL: http://[a-z0-9]+:8080\n`)
	composeServices = regexp.MustCompile(`(?m)^  nats:\n`)
)

// addToCompose gives the module a process of its own in the split
// profile, and its URL to every split process.
func addToCompose(text string, d data) (string, error) {
	urls := composeURL.FindAllStringIndex(text, -1)
	at := composeServices.FindStringIndex(text)
	if len(urls) == 0 || at == nil {
		return "", fmt.Errorf("no <MODULE>_URL lines in x-split-env or no nats service to add %s before", d.Name)
	}
	service := fmt.Sprintf(`  %[1]s:
    <<: *app
    profiles: [split]
    environment:
      <<: *split-env
      SERVICES: %[1]s
    depends_on:
      <<: *optional
      migrate-split: {condition: service_completed_successfully}

`, d.Name)
	text = text[:at[0]] + service + text[at[0]:]
	last := urls[len(urls)-1][1]
	return text[:last] + fmt.Sprintf("  %s_URL: http://%s:8080\n", d.Env, d.Name) + text[last:], nil
}

var groupLine = regexp.MustCompile(`(?m)^  - (\{name: [a-z0-9-]+, .*\}|name: [a-z0-9-]+)\n`)

// addToGroups adds a group running only the module after the last group.
func addToGroups(text string, d data) (string, error) {
	start := strings.Index(text, "\ngroups:\n")
	if start < 0 {
		return "", fmt.Errorf("no groups: list to add %s to", d.Name)
	}
	// The list ends at the next top-level key.
	end := len(text)
	if m := regexp.MustCompile(`(?m)^[a-zA-Z]`).FindStringIndex(text[start+len("\ngroups:\n"):]); m != nil {
		end = start + len("\ngroups:\n") + m[0]
	}
	if groupLine.FindStringIndex(text[start:end]) == nil {
		return "", fmt.Errorf("no group in the groups: list to add %s after", d.Name)
	}
	line := fmt.Sprintf("  - {name: %[1]s, services: [%[1]s]}\n", d.Name)
	return text[:end] + line + text[end:], nil
}
