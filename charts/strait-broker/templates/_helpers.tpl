{{- define "broker.labels" -}}
app.kubernetes.io/name: strait-broker
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: strait
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
{{- end -}}

{{/* The Kubernetes user name of a member: its ServiceAccount, or the `user` given. dict root, member. */}}
{{- define "broker.memberUser" -}}
{{- if .member.user -}}
{{- .member.user -}}
{{- else -}}
system:serviceaccount:{{ .root.Values.brokerNamespace }}:strait-member-{{ .member.clusterID }}
{{- end -}}
{{- end -}}

{{/* CEL map literal user name → cluster ID of every member. */}}
{{- define "broker.memberMap" -}}
{{- $root := . -}}
{{- $entries := list -}}
{{- range .Values.members -}}
{{- $entries = append $entries (printf "%s: %s" (include "broker.memberUser" (dict "root" $root "member" .) | squote) (.clusterID | squote)) -}}
{{- end -}}
{ {{- join ", " $entries -}} }
{{- end -}}
