package deploy_test

import (
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// strictDecoder decodes manifests into the Kubernetes API types (and the
// prometheus-operator's, for the ServiceMonitor), refusing unknown and
// repeated fields: a typo in a template fails here, not in a cluster.
var strictDecoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, monitoringv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}()

// object is one rendered manifest, decoded, with where it came from.
type object struct {
	source string
	obj    runtime.Object
}

// decodeManifests splits `helm template` output into its documents and
// decodes each strictly.
func decodeManifests(t *testing.T, manifests string) []object {
	t.Helper()
	var out []object
	for _, doc := range strings.Split(manifests, "\n---") {
		source := ""
		meaningful := false
		for line := range strings.Lines(doc) {
			trimmed := strings.TrimSpace(line)
			if s, ok := strings.CutPrefix(trimmed, "# Source: "); ok {
				source = s
			}
			if trimmed != "" && trimmed != "---" && !strings.HasPrefix(trimmed, "#") {
				meaningful = true
			}
		}
		if !meaningful {
			continue
		}
		raw, err := yaml.YAMLToJSONStrict([]byte(doc))
		require.NoError(t, err, "%s is not strict YAML:\n%s", source, doc)
		obj, _, err := strictDecoder.Decode(raw, nil, nil)
		require.NoError(t, err, "%s does not decode strictly:\n%s", source, doc)
		out = append(out, object{source, obj})
	}
	require.NotEmpty(t, out)
	return out
}
