{{/*
Names and labels. A group's objects are named <release>-<group>: its
Service's name is the host in every other group's <MODULE>_URL.
*/}}
{{- define "mitosis.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mitosis.groupName" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mitosis.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mitosis.labels" -}}
{{ include "mitosis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: mitosis
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "mitosis.chart" . }}
{{- end -}}

{{/* The pods of one group: dict "root" $ "name" <group>. */}}
{{- define "mitosis.groupSelector" -}}
{{ include "mitosis.selectorLabels" .root }}
mitosis/group: {{ .name }}
{{- end -}}

{{- define "mitosis.groupLabels" -}}
{{ include "mitosis.labels" .root }}
app.kubernetes.io/component: {{ .name }}
mitosis/group: {{ .name }}
{{- end -}}

{{- define "mitosis.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "mitosis.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-secrets" .Release.Name) -}}
{{- end -}}

{{/*
mitosis.graph: the module graph of the image, as YAML: files/modules.yaml,
what `app graph --format yaml` prints. It is generated, never committed:
Helm cannot run the binary, and a committed copy would need an edit for
every module added. `make chart` packages the chart with it; `make graph`
writes it into the source tree (git-ignored) for `helm install` from
there. Without it no module can be placed, so the render fails saying so.
*/}}
{{- define "mitosis.graph" -}}
{{- $raw := .Files.Get "files/modules.yaml" -}}
{{- if not $raw }}{{ fail "files/modules.yaml is missing: it is the image's module graph (`app graph --format yaml`), generated, not committed; package the chart with `make chart`, or run `make graph` before installing from the source tree" }}{{ end -}}
{{- $graph := $raw | fromYaml -}}
{{- if not $graph.modules }}{{ fail "files/modules.yaml lists no module: write it with `make graph`" }}{{ end -}}
{{- toYaml $graph -}}
{{- end -}}

{{/*
mitosis.placement: which group runs each module, as YAML {module: group},
from the groups' services lists and the module graph. The one group with
no services list runs the rest: every module no other group lists (all
of them when it is the only group), so a module added since runs there
with no edit. Every module runs in exactly one group; anything else fails
the render, naming the module.
*/}}
{{- define "mitosis.placement" -}}
{{- $graph := include "mitosis.graph" . | fromYaml -}}
{{- $names := list -}}
{{- range $graph.modules }}{{ $names = append $names .name }}{{ end -}}
{{- $place := dict -}}
{{- $groups := list -}}
{{- $rest := "" -}}
{{- range $g := .Values.groups -}}
  {{- if has $g.name $groups }}{{ fail (printf "groups: %q is named twice" $g.name) }}{{ end -}}
  {{- $groups = append $groups $g.name -}}
  {{- if not $g.services -}}
    {{- if $rest }}{{ fail (printf "groups %s and %s both have no services list, so both would run the rest: list the modules of one" $rest $g.name) }}{{ end -}}
    {{- $rest = $g.name -}}
  {{- end -}}
  {{- range $m := ($g.services | default list) -}}
    {{- if not (has $m $names) }}{{ fail (printf "group %s: unknown module %q (known: %s)" $g.name $m (join ", " $names)) }}{{ end -}}
    {{- if hasKey $place $m }}{{ fail (printf "module %s is in groups %s and %s: a module runs in exactly one group" $m (get $place $m) $g.name) }}{{ end -}}
    {{- $_ := set $place $m $g.name -}}
  {{- end -}}
{{- end -}}
{{- range $names -}}
  {{- if not (hasKey $place .) -}}
    {{- if not $rest }}{{ fail (printf "module %s is in no group: add it to the services of one, or leave one group's services out to run the rest" .) }}{{ end -}}
    {{- $_ := set $place . $rest -}}
  {{- end -}}
{{- end -}}
{{- toYaml $place -}}
{{- end -}}

{{/*
mitosis.runs: the modules each group runs, in the graph's order, as YAML
{group: [modules]}. A group of the rest left with no module is not in it:
it renders nothing (no Deployment runs no module) until a module arrives.
*/}}
{{- define "mitosis.runs" -}}
{{- $graph := include "mitosis.graph" . | fromYaml -}}
{{- $place := include "mitosis.placement" . | fromYaml -}}
{{- $runs := dict -}}
{{- range $graph.modules -}}
  {{- $group := get $place .name -}}
  {{- $_ := set $runs $group (append (get $runs $group | default list) .name) -}}
{{- end -}}
{{- toYaml $runs -}}
{{- end -}}

{{/*
mitosis.settings: the environment every process shares (the ConfigMap), as
YAML. The module URLs come from the placement; the shutdown settings from
.Values.shutdown (the wait itself is preStop's); MODULE_GRAPH is the digest
of the graph they were computed from, which every process (and first the
hook's `app check`) compares with its own: a chart packaged from other
sources than its image fails there, before anything rolls.
*/}}
{{- define "mitosis.settings" -}}
{{- $env := dict -}}
{{- range $k, $v := .Values.settings -}}
  {{- if hasKey $.Values.secrets $k }}{{ fail (printf "%s is in both settings and secrets: keep it in one" $k) }}{{ end -}}
  {{- $_ := set $env $k (toString $v) -}}
{{- end -}}
{{- $_ := set $env "HTTP_ADDR" (printf ":%d" (int .Values.ports.http)) -}}
{{- $_ := set $env "ADMIN_ADDR" (printf ":%d" (int .Values.ports.admin)) -}}
{{- $_ := set $env "MIGRATE_ON_START" "false" -}}
{{- $_ := set $env "SHUTDOWN_DELAY" "0s" -}}
{{- $_ := set $env "SHUTDOWN_TIMEOUT" (printf "%ds" (int .Values.shutdown.timeout)) -}}
{{- $root := . -}}
{{- $_ := set $env "MODULE_GRAPH" (printf "sha256:%s" (.Files.Get "files/modules.yaml" | sha256sum)) -}}
{{- range $module, $group := (include "mitosis.placement" . | fromYaml) -}}
  {{- $_ := set $env (printf "%s_URL" (upper $module)) (printf "http://%s:%d" (include "mitosis.groupName" (dict "root" $root "name" $group)) (int $root.Values.ports.http)) -}}
{{- end -}}
{{- range $module, $m := .Values.modules -}}
  {{- with ($m.database | default dict).isolation }}{{ $_ := set $env (printf "%s_DATABASE_ISOLATION" (upper $module)) . }}{{ end -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/* mitosis.secretData: what the chart's Secret holds, as YAML. */}}
{{- define "mitosis.secretData" -}}
{{- $data := dict -}}
{{- range $k, $v := .Values.secrets }}{{ if $v }}{{ $_ := set $data $k (toString $v) }}{{ end }}{{ end -}}
{{- range $module, $m := .Values.modules -}}
  {{- with ($m.database | default dict).url }}{{ $_ := set $data (printf "%s_DATABASE_URL" (upper $module)) . }}{{ end -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/*
mitosis.groupEnv: a group's own variables, as a YAML env list: dict "root" $
"group" <group>. SERVICES is its list, or for the group of the rest the
modules left to it (none when it runs them all: the monolith).
*/}}
{{- define "mitosis.groupEnv" -}}
{{- $env := list -}}
{{- $runs := include "mitosis.runs" .root | fromYaml -}}
{{- if .group.services -}}
  {{- $env = append $env (dict "name" "SERVICES" "value" (join "," .group.services)) -}}
{{- else if gt (len $runs) 1 -}}
  {{- $env = append $env (dict "name" "SERVICES" "value" (join "," (get $runs .group.name))) -}}
{{- end -}}
{{- range $k, $v := (.group.env | default dict) }}{{ $env = append $env (dict "name" $k "value" (toString $v)) }}{{ end -}}
{{- toYaml $env -}}
{{- end -}}

{{/*
mitosis.callers: the groups whose processes send requests to group .name,
as a YAML list, from the module graph: a module calls the modules it
depends on; every process without the token issuer fetches its keys (JWKS);
with EVENTS_BROKER=postgres a publisher's relay POSTs each event to its
subscribers. Calls inside a group are in-process.
*/}}
{{- define "mitosis.callers" -}}
{{- $root := .root -}}
{{- $group := .name -}}
{{- $graph := include "mitosis.graph" $root | fromYaml -}}
{{- $place := include "mitosis.placement" $root | fromYaml -}}
{{- $relays := eq (toString ($root.Values.settings.EVENTS_BROKER | default "postgres")) "postgres" -}}
{{- $callers := list -}}
{{- range $callee := $graph.modules -}}
  {{- if eq (get $place $callee.name) $group -}}
    {{- range $caller := $graph.modules -}}
      {{- $from := get $place $caller.name -}}
      {{- $calls := or (has $callee.name ($caller.depends_on | default list)) $callee.issues_tokens -}}
      {{- if $relays -}}
        {{- range $typ := ($caller.publishes | default list) -}}
          {{- if has $typ ($callee.subscribes | default list) }}{{ $calls = true }}{{ end -}}
        {{- end -}}
      {{- end -}}
      {{- if and $calls (ne $from $group) (not (has $from $callers)) }}{{ $callers = append $callers $from }}{{ end -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- toYaml (sortAlpha $callers) -}}
{{- end -}}

{{/* mitosis.shutdown: the grace period, preStop's wait plus SHUTDOWN_TIMEOUT plus a margin. */}}
{{- define "mitosis.gracePeriod" -}}
{{- add (int .Values.shutdown.delay) (int .Values.shutdown.timeout) (int .Values.shutdown.margin) -}}
{{- end -}}
