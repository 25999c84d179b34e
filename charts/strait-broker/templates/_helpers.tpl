{{- define "broker.labels" -}}
app.kubernetes.io/name: strait-broker
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: strait
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
{{- end -}}
