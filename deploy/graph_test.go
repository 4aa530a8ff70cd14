package deploy_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

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

// TestChartNeedsTheGraph: a chart without the image's module graph (one
// installed from the source tree before `make graph`) renders nothing,
// and says how to make it.
func TestChartNeedsTheGraph(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mitosis")
	require.NoError(t, copyChart(dir, nil))
	_, err := renderChartAt(t, dir, []string{splitValues})
	require.ErrorContains(t, err, "files/modules.yaml is missing")
	require.ErrorContains(t, err, "make chart")
}

// TestChartRunsAModuleAddedSinceInTheRest renders the example placements
// with the graph of a binary that has one module more than this one: the
// group of the rest runs it (in split-values, where that group had none,
// it now renders), every group finds it there, and the NetworkPolicies
// admit its calls and the events it gets, with no edit of the values. This
// binary refuses that release: its MODULE_GRAPH is another graph's.
func TestChartRunsAModuleAddedSinceInTheRest(t *testing.T) {
	grown := append(moduleGraph{}, graphModules(t)...)
	grown = append(grown, graphModule{Name: "shelf", DependsOn: []string{"users"},
		Publishes: []string{"shelf.item_created"}, Subscribes: []string{"order.confirmed"}})
	raw, err := yaml.Marshal(map[string]moduleGraph{"modules": grown})
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "mitosis")
	require.NoError(t, copyChart(dir, raw))
	for _, values := range []string{chartDir + "/ci/split-values.yaml", chartDir + "/ci/split-isolated-values.yaml"} {
		t.Run(filepath.Base(values), func(t *testing.T) {
			manifests, err := renderChartAt(t, dir, []string{values})
			require.NoError(t, err)
			v, r := loadValues(t, values), newRendered(t, manifests)
			require.Equal(t, "others", v.placement(grown)["shelf"])
			requireRender(t, v, grown, r)
			settings, _ := get[corev1.ConfigMap](r, release+"-settings")
			require.Equal(t, "http://"+groupName("others")+":8080", settings.Data["SHELF_URL"])
			d, ok := get[appsv1.Deployment](r, groupName("others"))
			require.True(t, ok, "the group of the rest runs shelf")
			require.Contains(t, strings.Split(resolveEnv(t, r, d.Spec.Template.Spec.Containers[0])["SERVICES"], ","), "shelf")
			require.Contains(t, v.callers(grown, "users"), "others", "shelf calls users")

			env := imageEnv(t)
			for k, val := range resolveEnv(t, r, d.Spec.Template.Spec.Containers[0]) {
				env[k] = val
			}
			_, stderr, err := appCheck(t, env)
			require.Error(t, err, "a binary without shelf must not run a release placed for it")
			require.Contains(t, stderr, "MODULE_GRAPH is "+settings.Data["MODULE_GRAPH"]+", but this binary's module graph is sha256:")
		})
	}
}
