package deploy_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// chartGraph is the chart's copy of the module graph, which the chart's
// templates read; `make graph` writes it from `app graph`.
const chartGraph = "helm/mitosis/files/modules.yaml"

type graphModule struct {
	Name         string   `yaml:"name"`
	DependsOn    []string `yaml:"depends_on"`
	Publishes    []string `yaml:"publishes"`
	Subscribes   []string `yaml:"subscribes"`
	Stateless    bool     `yaml:"stateless"`
	IssuesTokens bool     `yaml:"issues_tokens"`
}

type moduleGraph []graphModule

func (g moduleGraph) names() []string {
	var out []string
	for _, m := range g {
		out = append(out, m.Name)
	}
	return out
}

func (g moduleGraph) module(name string) graphModule {
	for _, m := range g {
		if m.Name == name {
			return m
		}
	}
	return graphModule{}
}

// graphModules is the module graph as the binary prints it.
func graphModules(t *testing.T) moduleGraph {
	t.Helper()
	var g struct {
		Modules moduleGraph `yaml:"modules"`
	}
	dec := yaml.NewDecoder(strings.NewReader(run(t, appBinary, "graph", "--format", "yaml")))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&g))
	require.NotEmpty(t, g.Modules)
	return g.Modules
}

// TestChartGraphIsCurrent fails when the chart's copy of the module graph
// is not what the binary prints: run `make graph`.
func TestChartGraphIsCurrent(t *testing.T) {
	want := run(t, appBinary, "graph", "--format", "yaml")
	got, err := os.ReadFile(chartGraph)
	require.NoError(t, err)
	require.Equal(t, want, string(got), "%s is stale: run `make graph`", chartGraph)
}
