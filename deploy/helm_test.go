package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// valueSets are the chart's test values (ci/, as chart-testing has them):
// all in one, the split, the split with payments isolated and two gateway
// replicas.
func valueSets(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(chartDir + "/ci/*-values.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 3)
	return files
}

func TestChartLint(t *testing.T) {
	for _, f := range valueSets(t) {
		run(t, helm(t), "lint", "--strict", chart, "-f", f, "--kube-version", kubeVersion)
	}
}

// TestChartValueSets renders every value set, and the split with payments
// moved into the orders group by one line, and checks every object.
func TestChartValueSets(t *testing.T) {
	modules := graphModules(t)
	moved := filepath.Join(t.TempDir(), "moved-values.yaml")
	require.NoError(t, os.WriteFile(moved, movePayments(t, chartDir+"/ci/split-values.yaml"), 0o600))
	sets := map[string][]string{}
	for _, f := range valueSets(t) {
		sets[filepath.Base(f)] = []string{f}
	}
	sets["split, payments moved to orders"] = []string{chartDir + "/ci/split-values.yaml", moved}
	for name, files := range sets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			manifests, err := renderChart(t, files)
			require.NoError(t, err)
			requireRelease(t, loadValues(t, files...), modules, newRendered(t, manifests))
		})
	}
}

// rendered indexes a render's objects by kind and name.
type rendered map[string]map[string]any

func newRendered(t *testing.T, manifests string) rendered {
	t.Helper()
	r := rendered{}
	for _, o := range decodeManifests(t, manifests) {
		kind := fmt.Sprintf("%T", o.obj)
		name := o.obj.(interface{ GetName() string }).GetName()
		if r[kind] == nil {
			r[kind] = map[string]any{}
		}
		require.NotContains(t, r[kind], name, "two %s named %s", kind, name)
		r[kind][name] = o.obj
	}
	return r
}

func get[T any](r rendered, name string) (T, bool) {
	var zero T
	o, ok := r[fmt.Sprintf("%T", &zero)][name]
	if !ok {
		return zero, false
	}
	return *(o.(*T)), true
}

func count[T any](r rendered) int {
	var zero T
	return len(r[fmt.Sprintf("%T", &zero)])
}

// requireRelease checks a render against its values and the module graph,
// and runs `app check` with the environment of every process it starts:
// each passes, and places here exactly the modules of its group.
func requireRelease(t *testing.T, v chartValues, modules moduleGraph, r rendered) {
	t.Helper()
	requireRender(t, v, modules, r)
	runs := v.runs(modules)
	for _, g := range v.running(modules) {
		d, _ := get[appsv1.Deployment](r, groupName(g.Name))
		placed := requireCheckPasses(t, "Deployment "+d.Name, resolveEnv(t, r, d.Spec.Template.Spec.Containers[0]))
		require.ElementsMatch(t, runs[g.Name], placed.local(), "the modules %s runs, as its process places them", g.Name)
	}
	job, _ := get[batchv1.Job](r, release+"-migrate")
	requireCheckPasses(t, "the migration Job", resolveEnv(t, r, job.Spec.Template.Spec.Containers[0]))
}

// requireRender checks a render against its values and the module graph:
// a Deployment, Service and NetworkPolicy per group that runs a module,
// every module URL its group's Service, the hook checking each group.
func requireRender(t *testing.T, v chartValues, modules moduleGraph, r rendered) {
	t.Helper()
	place := v.placement(modules)
	runs := v.runs(modules)
	settings, ok := get[corev1.ConfigMap](r, release+"-settings")
	require.True(t, ok, "the settings ConfigMap")
	for module, group := range place {
		require.Equal(t, fmt.Sprintf("http://%s:%d", groupName(group), v.Ports.HTTP), settings.Data[strings.ToUpper(module)+"_URL"], module)
	}
	require.Equal(t, fmt.Sprintf("%ds", v.Shutdown.Timeout), settings.Data["SHUTDOWN_TIMEOUT"])
	require.Equal(t, "0s", settings.Data["SHUTDOWN_DELAY"], "preStop waits, the process need not")
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, settings.Data["MODULE_GRAPH"], "the graph the placement was computed from")
	for module, m := range v.Modules {
		if m.Database.Isolation != "" {
			require.Equal(t, m.Database.Isolation, settings.Data[strings.ToUpper(module)+"_DATABASE_ISOLATION"])
		}
	}

	require.Equal(t, len(runs), count[appsv1.Deployment](r), "a Deployment per group that runs a module")
	require.Equal(t, len(runs), count[corev1.Service](r))
	for _, g := range v.running(modules) {
		name := groupName(g.Name)
		d, ok := get[appsv1.Deployment](r, name)
		require.True(t, ok, "Deployment %s", name)
		requireDeployment(t, v, d)
		env := resolveEnv(t, r, d.Spec.Template.Spec.Containers[0])
		switch {
		case len(g.Services) > 0:
			require.Equal(t, strings.Join(g.Services, ","), env["SERVICES"])
		case len(runs) > 1:
			require.Equal(t, strings.Join(runs[g.Name], ","), env["SERVICES"], "the group of the rest runs what the others leave")
		default:
			require.NotContains(t, env, "SERVICES", "the only group runs every module")
		}
		require.Equal(t, strings.Join(runs[g.Name], ","), d.Annotations["mitosis/services"])

		svc, ok := get[corev1.Service](r, name)
		require.True(t, ok, "Service %s", name)
		require.Equal(t, d.Spec.Selector.MatchLabels, svc.Spec.Selector)
		for k, val := range svc.Spec.Selector {
			require.Equal(t, val, d.Spec.Template.Labels[k], "the Service selects the pods")
		}
		var ports []int32
		for _, p := range svc.Spec.Ports {
			ports = append(ports, p.Port)
		}
		require.ElementsMatch(t, []int32{int32(v.Ports.HTTP), int32(v.Ports.Admin)}, ports)

		minReplicas := 1
		if g.Replicas != nil {
			minReplicas = *g.Replicas
		}
		_, hasHPA := get[autoscalingv2.HorizontalPodAutoscaler](r, name)
		require.Equal(t, g.Autoscaling.Enabled, hasHPA, name)
		if g.Autoscaling.Enabled {
			minReplicas = g.Autoscaling.MinReplicas
			require.Nil(t, d.Spec.Replicas, "the HPA owns the replica count")
		} else {
			require.Equal(t, int32(minReplicas), *d.Spec.Replicas)
		}
		pdb, hasPDB := get[policyv1.PodDisruptionBudget](r, name)
		require.Equal(t, minReplicas > 1, hasPDB, "a PodDisruptionBudget when %s has more than one replica", name)
		if hasPDB {
			require.Equal(t, d.Spec.Selector.MatchLabels, pdb.Spec.Selector.MatchLabels)
		}
	}
	requireMigrationJob(t, v, modules, r)
	requireIngress(t, v, place, r)
	requireNetworkPolicies(t, v, modules, r)
	_, hasMonitor := get[monitoringv1.ServiceMonitor](r, release)
	require.Equal(t, v.ServiceMonitor.Enabled, hasMonitor)
	if hasMonitor {
		sm, _ := get[monitoringv1.ServiceMonitor](r, release)
		require.Len(t, sm.Spec.Endpoints, 1)
		require.Equal(t, "admin", sm.Spec.Endpoints[0].Port)
		require.Equal(t, "/metrics", sm.Spec.Endpoints[0].Path)
	}
}

// requireDeployment checks what every group's pods must have: probes on
// the health routes, a shutdown that fits the grace period, a restricted
// security context, config checksums.
func requireDeployment(t *testing.T, v chartValues, d appsv1.Deployment) {
	t.Helper()
	pod := d.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	require.Equal(t, []string{"serve"}, c.Args)
	for probe, path := range map[*corev1.Probe]string{c.StartupProbe: "/health/live", c.LivenessProbe: "/health/live", c.ReadinessProbe: "/health/ready"} {
		require.NotNil(t, probe, d.Name)
		require.Equal(t, path, probe.HTTPGet.Path, d.Name)
		require.Equal(t, "http", probe.HTTPGet.Port.String(), d.Name)
	}
	require.Equal(t, int64(v.Shutdown.Delay), c.Lifecycle.PreStop.Sleep.Seconds, "preStop waits SHUTDOWN_DELAY")
	require.Equal(t, int64(v.Shutdown.Delay+v.Shutdown.Timeout+v.Shutdown.Margin), *pod.TerminationGracePeriodSeconds,
		"the grace period covers preStop's wait, SHUTDOWN_TIMEOUT and a margin")
	require.NotEmpty(t, c.Resources.Requests)
	require.NotEmpty(t, c.Resources.Limits)

	require.True(t, *pod.SecurityContext.RunAsNonRoot)
	require.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type)
	require.False(t, *pod.AutomountServiceAccountToken)
	sc := c.SecurityContext
	require.True(t, *sc.ReadOnlyRootFilesystem)
	require.False(t, *sc.AllowPrivilegeEscalation)
	require.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	require.Empty(t, sc.Capabilities.Add)
	require.Contains(t, c.VolumeMounts, corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"})
	require.NotNil(t, pod.Volumes[slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == "tmp" })].EmptyDir)

	for _, k := range []string{"checksum/settings", "checksum/secrets"} {
		require.Len(t, d.Spec.Template.Annotations[k], 64, "%s: %s", d.Name, k)
	}
}

// resolveEnv is the environment a container starts with, from its env,
// envFrom and the rendered ConfigMaps and Secrets they name.
func resolveEnv(t *testing.T, r rendered, c corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, ok := get[corev1.ConfigMap](r, from.ConfigMapRef.Name)
			require.True(t, ok, "ConfigMap %s", from.ConfigMapRef.Name)
			for k, v := range cm.Data {
				env[k] = v
			}
		case from.SecretRef != nil:
			s, ok := get[corev1.Secret](r, from.SecretRef.Name)
			require.True(t, ok, "Secret %s", from.SecretRef.Name)
			for k, v := range s.Data {
				env[k] = string(v)
			}
			for k, v := range s.StringData {
				env[k] = v
			}
		}
	}
	for _, e := range c.Env {
		require.Nil(t, e.ValueFrom, "%s: only plain values here", e.Name)
		env[e.Name] = e.Value
	}
	return env
}

// requireMigrationJob checks the hook: `app migrate up` before install and
// upgrade, after one `app check` per group that runs a module, with
// exactly that group's environment.
func requireMigrationJob(t *testing.T, v chartValues, modules moduleGraph, r rendered) {
	t.Helper()
	job, ok := get[batchv1.Job](r, release+"-migrate")
	require.True(t, ok, "the migration Job")
	require.Equal(t, "pre-install,pre-upgrade", job.Annotations["helm.sh/hook"])
	pod := job.Spec.Template.Spec
	require.Equal(t, corev1.RestartPolicyNever, pod.RestartPolicy)
	require.Equal(t, []string{"migrate", "up"}, pod.Containers[0].Args)
	require.True(t, *pod.Containers[0].SecurityContext.ReadOnlyRootFilesystem)
	if secret := pod.Containers[0].EnvFrom[0].SecretRef.Name; secret != release+"-secrets" {
		s, ok := get[corev1.Secret](r, secret)
		require.True(t, ok, "the hook's Secret %s", secret)
		require.Equal(t, "pre-install,pre-upgrade", s.Annotations["helm.sh/hook"])
		require.Less(t, s.Annotations["helm.sh/hook-weight"], job.Annotations["helm.sh/hook-weight"], "the Secret is there before the Job")
	}
	groups := v.running(modules)
	require.Len(t, pod.InitContainers, len(groups))
	for i, g := range groups {
		check := pod.InitContainers[i]
		require.Equal(t, "check-"+g.Name, check.Name)
		require.Equal(t, []string{"check"}, check.Args)
		d, _ := get[appsv1.Deployment](r, groupName(g.Name))
		require.Equal(t, resolveEnv(t, r, d.Spec.Template.Spec.Containers[0]), resolveEnv(t, r, check),
			"the hook checks %s with the environment its pods get", g.Name)
	}
}

func requireIngress(t *testing.T, v chartValues, place map[string]string, r rendered) {
	t.Helper()
	require.Equal(t, map[bool]int{true: 1, false: 0}[v.Ingress.Enabled], count[networkingv1.Ingress](r))
	if !v.Ingress.Enabled {
		return
	}
	ing, _ := get[networkingv1.Ingress](r, release)
	for _, rule := range ing.Spec.Rules {
		for _, p := range rule.HTTP.Paths {
			require.Equal(t, groupName(place[v.Ingress.Module]), p.Backend.Service.Name, "the Ingress goes to the gateway's group only")
		}
	}
}

// requireNetworkPolicies checks each group's policy against the module
// graph: its HTTP port admits exactly the groups that call its modules,
// plus the ingress peers where the gateway runs; the admin port only the
// metrics peers.
func requireNetworkPolicies(t *testing.T, v chartValues, modules moduleGraph, r rendered) {
	t.Helper()
	if !v.NetworkPolicy.Enabled {
		require.Zero(t, count[networkingv1.NetworkPolicy](r))
		return
	}
	place := v.placement(modules)
	groups := v.running(modules)
	require.Equal(t, len(groups), count[networkingv1.NetworkPolicy](r))
	for _, g := range groups {
		np, ok := get[networkingv1.NetworkPolicy](r, groupName(g.Name))
		require.True(t, ok, "NetworkPolicy of %s", g.Name)
		d, _ := get[appsv1.Deployment](r, groupName(g.Name))
		require.Equal(t, d.Spec.Selector.MatchLabels, np.Spec.PodSelector.MatchLabels)
		require.Equal(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, np.Spec.PolicyTypes)
		var callers []string
		openHTTP, metrics := false, 0
		for _, rule := range np.Spec.Ingress {
			require.Len(t, rule.Ports, 1)
			switch port := rule.Ports[0].Port.IntValue(); port {
			case v.Ports.HTTP:
				groupPeers := 0
				for _, peer := range rule.From {
					if peer.PodSelector != nil && peer.NamespaceSelector == nil {
						caller := peer.PodSelector.MatchLabels["mitosis/group"]
						require.NotEmpty(t, caller, "a pod peer is a group")
						callers = append(callers, caller)
						groupPeers++
					}
				}
				if groupPeers == 0 {
					require.Equal(t, place[v.Ingress.Module], g.Name, "only the gateway's group admits more than its callers")
					require.Len(t, rule.From, len(v.NetworkPolicy.IngressFrom))
					openHTTP = true
				}
			case v.Ports.Admin:
				require.Len(t, rule.From, len(v.NetworkPolicy.MetricsFrom))
				metrics++
			default:
				t.Fatalf("%s admits port %d", g.Name, port)
			}
		}
		require.ElementsMatch(t, v.callers(modules, g.Name), callers, "who may call %s", g.Name)
		require.Equal(t, place[v.Ingress.Module] == g.Name, openHTTP, "%s admits the ingress", g.Name)
		require.Equal(t, min(1, len(v.NetworkPolicy.MetricsFrom)), metrics)
	}
}

// movePayments is the groups of the values file with payments moved into
// the orders group: the one-line change of a placement, whatever other
// modules the split runs.
func movePayments(t *testing.T, values string) []byte {
	t.Helper()
	raw, err := os.ReadFile(values)
	require.NoError(t, err)
	var v struct {
		Groups []map[string]any `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &v))
	var groups []map[string]any
	for _, g := range v.Groups {
		switch g["name"] {
		case "payments":
			continue
		case "orders":
			g["services"] = append(g["services"].([]any), "payments")
		}
		groups = append(groups, g)
	}
	require.Len(t, groups, len(v.Groups)-1, "a payments group was moved")
	out, err := yaml.Marshal(map[string]any{"groups": groups})
	require.NoError(t, err)
	return out
}
