package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const (
	// chartDir is the chart's source: its values and templates, without
	// the module graph (see chart).
	chartDir = "helm/mitosis"
	release  = "shop"
	// The chart's lowest Kubernetes (preStop's sleep action).
	kubeVersion = "1.30.0"
	helmVersion = "v3.22.0"
)

// helm is the helm binary: $HELM (the Makefile's, built into .tools/), the
// Makefile's build location, or one on PATH.
func helm(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	if h, err := filepath.Abs("../.tools/bin/helm-" + helmVersion); err == nil {
		if _, err := os.Stat(h); err == nil {
			return h
		}
	}
	h, err := exec.LookPath("helm")
	require.NoError(t, err, "helm not found: `make test-deploy` builds it into .tools/bin")
	return h
}

// renderChart runs `helm template` of the chart with the value files (and
// --set pairs), and returns the manifests or helm's error output.
func renderChart(t *testing.T, files []string, sets ...string) (string, error) {
	t.Helper()
	return renderChartAt(t, chart, files, sets...)
}

// renderChartAt renders the chart at dir (a copy with another graph).
func renderChartAt(t *testing.T, dir string, files []string, sets ...string) (string, error) {
	t.Helper()
	args := []string{"template", release, dir, "--namespace", "shop", "--kube-version", kubeVersion}
	for _, f := range files {
		args = append(args, "-f", f)
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(helm(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, errOut.String())
	}
	return out.String(), nil
}

// chartValues are the values a render used: the chart's defaults merged
// with the files as Helm merges them (maps deeply, lists replaced).
type chartValues struct {
	Groups   []chartGroup      `yaml:"groups"`
	Settings map[string]string `yaml:"settings"`
	Modules  map[string]struct {
		Database struct {
			Isolation string `yaml:"isolation"`
		} `yaml:"database"`
	} `yaml:"modules"`
	Ports    struct{ HTTP, Admin int } `yaml:"ports"`
	Shutdown struct{ Delay, Timeout, Margin int }
	Ingress  struct {
		Enabled bool   `yaml:"enabled"`
		Module  string `yaml:"module"`
	} `yaml:"ingress"`
	NetworkPolicy struct {
		Enabled     bool             `yaml:"enabled"`
		IngressFrom []map[string]any `yaml:"ingressFrom"`
		MetricsFrom []map[string]any `yaml:"metricsFrom"`
	} `yaml:"networkPolicy"`
	ServiceMonitor struct {
		Enabled bool `yaml:"enabled"`
	} `yaml:"serviceMonitor"`
}

// chartGroup is one process group of the values.
type chartGroup struct {
	Name        string            `yaml:"name"`
	Services    []string          `yaml:"services"`
	Replicas    *int              `yaml:"replicas"`
	Env         map[string]string `yaml:"env"`
	Autoscaling struct {
		Enabled     bool `yaml:"enabled"`
		MinReplicas int  `yaml:"minReplicas"`
	} `yaml:"autoscaling"`
}

func loadValues(t *testing.T, files ...string) chartValues {
	t.Helper()
	merged := map[string]any{}
	for _, f := range append([]string{chartDir + "/values.yaml"}, files...) {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, yaml.Unmarshal(raw, &m))
		mergeValues(merged, m)
	}
	raw, err := yaml.Marshal(merged)
	require.NoError(t, err)
	var v chartValues
	require.NoError(t, yaml.Unmarshal(raw, &v))
	return v
}

func mergeValues(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// placement says which group runs each module, as the values place them:
// the group without a services list runs every module no other lists.
func (v chartValues) placement(modules moduleGraph) map[string]string {
	place := map[string]string{}
	rest := ""
	for _, g := range v.Groups {
		if len(g.Services) == 0 {
			rest = g.Name
		}
		for _, m := range g.Services {
			place[m] = g.Name
		}
	}
	for _, m := range modules.names() {
		if _, ok := place[m]; !ok && rest != "" {
			place[m] = rest
		}
	}
	return place
}

// runs lists the modules of each group that runs any, in the graph's order.
func (v chartValues) runs(modules moduleGraph) map[string][]string {
	place := v.placement(modules)
	out := map[string][]string{}
	for _, m := range modules.names() {
		out[place[m]] = append(out[place[m]], m)
	}
	return out
}

// running are the groups that run a module (a group of the rest left with
// none renders nothing), in the values' order.
func (v chartValues) running(modules moduleGraph) []chartGroup {
	runs := v.runs(modules)
	var out []chartGroup
	for _, g := range v.Groups {
		if len(runs[g.Name]) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// callers is the module graph seen from the network: the groups whose
// processes send requests to group, computed here independently of the
// chart's template. A module calls what it depends on; a process without
// the token issuer fetches its keys; with the PostgreSQL broker, a
// publisher's relay delivers to each subscriber.
func (v chartValues) callers(modules moduleGraph, group string) []string {
	place := v.placement(modules)
	relays := v.Settings["EVENTS_BROKER"] == "" || v.Settings["EVENTS_BROKER"] == "postgres"
	set := map[string]bool{}
	for _, callee := range modules {
		if place[callee.Name] != group {
			continue
		}
		for _, caller := range modules {
			from := place[caller.Name]
			if from == group {
				continue
			}
			calls := callee.IssuesTokens
			for _, dep := range caller.DependsOn {
				calls = calls || dep == callee.Name
			}
			for _, pub := range caller.Publishes {
				for _, sub := range callee.Subscribes {
					calls = calls || (relays && pub == sub)
				}
			}
			if calls {
				set[from] = true
			}
		}
	}
	out := sortedKeys(set)
	sort.Strings(out)
	return out
}

func groupName(group string) string { return release + "-" + group }
