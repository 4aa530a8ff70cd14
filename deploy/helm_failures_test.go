package deploy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

const splitValues = chartDir + "/ci/split-values.yaml"

// TestChartRollsOnChange: a changed setting changes every pod template's
// settings checksum (so the pods roll), a changed secret its secrets
// checksum, and an unchanged render changes neither.
func TestChartRollsOnChange(t *testing.T) {
	checksums := func(sets ...string) map[string]map[string]string {
		t.Helper()
		manifests, err := renderChart(t, []string{splitValues}, sets...)
		require.NoError(t, err)
		r := newRendered(t, manifests)
		out := map[string]map[string]string{}
		for name, o := range r["*v1.Deployment"] {
			out[name] = o.(*appsv1.Deployment).Spec.Template.Annotations
		}
		require.NotEmpty(t, out)
		return out
	}
	base := checksums()
	require.Equal(t, base, checksums(), "the same values roll nothing")
	setting := checksums("settings.CALL_TIMEOUT=3s")
	secret := checksums("secrets.SERVICE_SECRET=another-service-secret-0123456789abcdef")
	for name := range base {
		require.NotEqual(t, base[name]["checksum/settings"], setting[name]["checksum/settings"], name)
		require.Equal(t, base[name]["checksum/secrets"], setting[name]["checksum/secrets"], name)
		require.NotEqual(t, base[name]["checksum/secrets"], secret[name]["checksum/secrets"], name)
		require.Equal(t, base[name]["checksum/settings"], secret[name]["checksum/settings"], name)
	}
}

// TestChartRefusesBadPlacements: every module runs in exactly one group,
// at most one group runs the rest, and the render says which is wrong.
func TestChartRefusesBadPlacements(t *testing.T) {
	for want, groups := range map[string]string{
		"module orders is in groups users and orders":    "[{name: edge, services: [gateway]}, {name: users, services: [users, orders]}, {name: orders, services: [orders, payments]}]",
		"module payments is in no group":                 "[{name: edge, services: [gateway]}, {name: users, services: [users]}, {name: orders, services: [orders]}]",
		"groups all and rest both have no services list": "[{name: all, services: []}, {name: users, services: [users]}, {name: rest}]",
		`group users: unknown module "accounts"`:         "[{name: users, services: [accounts]}]",
		`"users" is named twice`:                         "[{name: users, services: [users]}, {name: users, services: [orders]}]",
	} {
		f := filepath.Join(t.TempDir(), "values.yaml")
		require.NoError(t, os.WriteFile(f, []byte("groups: "+groups+"\n"), 0o600))
		_, err := renderChart(t, []string{splitValues, f})
		require.ErrorContains(t, err, want)
	}
	_, err := renderChart(t, []string{splitValues}, "settings.SERVICE_SECRET=x")
	require.ErrorContains(t, err, "SERVICE_SECRET is in both settings and secrets")
}

// TestChartCheckFailsAReleaseThatCouldNotStart proves requireCheckPasses
// has teeth on the chart too: without SIGNING_KEY_SECRET, users' group
// would crash-loop, and app check of its environment says why.
func TestChartCheckFailsAReleaseThatCouldNotStart(t *testing.T) {
	manifests, err := renderChart(t, []string{splitValues}, "secrets.SIGNING_KEY_SECRET=")
	require.NoError(t, err)
	r := newRendered(t, manifests)
	d, ok := get[appsv1.Deployment](r, groupName("users"))
	require.True(t, ok)
	env := imageEnv(t)
	for k, v := range resolveEnv(t, r, d.Spec.Template.Spec.Containers[0]) {
		env[k] = v
	}
	_, stderr, err := appCheck(t, env)
	require.Error(t, err)
	require.Contains(t, stderr, "SIGNING_KEY_SECRET is required in production")
}

// TestChartExistingSecret: with existingSecret the chart makes no Secret,
// not even the hook's, and every process and the migration Job read the
// one named.
func TestChartExistingSecret(t *testing.T) {
	manifests, err := renderChart(t, []string{splitValues}, "existingSecret=shop-credentials")
	require.NoError(t, err)
	r := newRendered(t, manifests)
	require.Zero(t, count[corev1.Secret](r), "no Secret of the chart's own")
	var refs []string
	for _, o := range r["*v1.Deployment"] {
		refs = append(refs, o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].EnvFrom[1].SecretRef.Name)
	}
	job, ok := get[batchv1.Job](r, release+"-migrate")
	require.True(t, ok)
	for _, c := range append(job.Spec.Template.Spec.InitContainers, job.Spec.Template.Spec.Containers...) {
		refs = append(refs, c.EnvFrom[0].SecretRef.Name)
	}
	// A Deployment per group that runs a module, and an init container
	// each in the Job, beside its one container.
	groups := len(loadValues(t, splitValues).running(graphModules(t)))
	require.Len(t, refs, groups+groups+1)
	for _, ref := range refs {
		require.Equal(t, "shop-credentials", ref)
	}
}
