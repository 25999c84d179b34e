{{/*
Named templates shared by the umbrella chart and its subcharts (Helm loads every chart's templates
into one set, so a subchart calls these with its own context). Every helper takes a dict:
  root       the calling chart's context (.)
  component  the service name (tunnel-operator, labeler-operator, ...)
*/}}

{{/* <release>-<component>, at most 63 characters. */}}
{{- define "strait.name" -}}
{{- printf "%s-%s" .root.Release.Name .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* app.kubernetes.io/name of a component's pods: the gateway pods are strait-gateway (the labeler selects them by it). */}}
{{- define "strait.appName" -}}
{{- if eq .component "tunnel-operator" -}}strait-gateway{{- else -}}strait-{{ .component }}{{- end -}}
{{- end -}}

{{- define "strait.selectorLabels" -}}
app.kubernetes.io/name: {{ include "strait.appName" . }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "strait.labels" -}}
{{ include "strait.selectorLabels" . }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: strait
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 }}
{{- end -}}

{{/* Umbrella-level object labels (no component). */}}
{{- define "strait.commonLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: strait
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
{{- end -}}

{{/* Names every component must agree on (computed the same way in every chart). */}}
{{- define "strait.gatewayLeaseName" -}}
{{- .Values.global.gatewayLeaseName | default (printf "%s-gateway" .Release.Name | trunc 63 | trimSuffix "-") -}}
{{- end -}}
{{- define "strait.gatewayKeysSecret" -}}
{{- .Values.global.gatewayKeys.existingSecret | default (printf "%s-gateway-keys" .Release.Name | trunc 63 | trimSuffix "-") -}}
{{- end -}}
{{- define "strait.natsSecret" -}}
{{- .Values.global.nats.existingSecret | default (printf "%s-nats" .Release.Name | trunc 63 | trimSuffix "-") -}}
{{- end -}}
{{/* Label selector of the gateway pods, as the labeler takes it (--gateway-selector). */}}
{{- define "strait.gatewaySelector" -}}
app.kubernetes.io/name=strait-gateway,app.kubernetes.io/instance={{ .Release.Name }}
{{- end -}}

{{/* Image reference: dict root, image (the component's image values). */}}
{{- define "strait.image" -}}
{{- $g := .root.Values.global.image -}}
{{- $registry := .image.registry | default $g.registry -}}
{{- $tag := .image.tag | default $g.tag | default .root.Chart.AppVersion -}}
{{- if .image.digest -}}
{{- printf "%s/%s@%s" $registry .image.repository .image.digest | trimPrefix "/" -}}
{{- else -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag | trimPrefix "/" -}}
{{- end -}}
{{- end -}}

{{/*
Container args from a dict of flags (name without "--" → value), sorted by name. A null or empty
value leaves the flag out, so the service's own default applies; true/false are written as --x=true.
*/}}
{{- define "strait.args" -}}
{{- range $name := keys . | sortAlpha }}
{{- $v := get $ $name }}
{{- if not (or (kindIs "invalid" $v) (and (kindIs "string" $v) (eq $v ""))) }}
- {{ printf "--%s=%v" $name $v | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Flags every service takes, from the globals and the component's values:
dict root, component. Returns YAML of a dict; the caller merges its own flags over it.
*/}}
{{- define "strait.baseFlags" -}}
{{- $v := .root.Values -}}
{{- $g := $v.global -}}
cluster-id: {{ $g.clusterID | quote }}
namespace: {{ .root.Release.Namespace | quote }}
log-level: {{ $v.logLevel | default $g.logLevel | quote }}
probe-addr: {{ printf "0.0.0.0:%v" $v.probePort | quote }}
shutdown-timeout: {{ $v.shutdownTimeout | default "10s" | quote }}
{{- with $g.nats.url }}
nats-url: {{ . | quote }}
{{- end }}
{{- with $g.nats.user }}
nats-user: {{ . | quote }}
{{- end }}
{{- $n := $g.nats }}
{{- if $n.url }}
{{- if $n.existingSecret }}
{{- with $n.passwordKey }}
nats-password-file: "/var/run/strait/nats/{{ . }}"
{{- end }}
{{- with $n.tokenKey }}
nats-token-file: "/var/run/strait/nats/{{ . }}"
{{- end }}
{{- else }}
{{- if $n.password }}
nats-password-file: "/var/run/strait/nats/password"
{{- end }}
{{- if $n.token }}
nats-token-file: "/var/run/strait/nats/token"
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Leader-election flags from a component's leaderElection values. */}}
{{- define "strait.leaderFlags" -}}
lease-duration: {{ .leaseDuration | quote }}
renew-deadline: {{ .renewDeadline | quote }}
retry-period: {{ .retryPeriod | quote }}
{{- end -}}

{{/* The NATS credentials volume (only when NATS credentials are configured). dict root. */}}
{{- define "strait.natsMounted" -}}
{{- $n := .root.Values.global.nats -}}
{{- if and $n.url (or $n.existingSecret $n.password $n.token) }}true{{ end -}}
{{- end -}}

{{- define "strait.natsVolume" -}}
{{- if include "strait.natsMounted" . }}
- name: nats-credentials
  secret:
    secretName: {{ include "strait.natsSecret" .root }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{- define "strait.natsVolumeMount" -}}
{{- if include "strait.natsMounted" . }}
- name: nats-credentials
  mountPath: /var/run/strait/nats
  readOnly: true
{{- end }}
{{- end -}}

{{/* Env every service reads: its pod and node name (downward API), plus the component's extraEnv. */}}
{{- define "strait.env" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- with .root.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Probes against the service's probe server. dict root. */}}
{{- define "strait.probes" -}}
startupProbe:
  httpGet:
    path: /livez
    port: probes
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet:
    path: /livez
    port: probes
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: probes
  periodSeconds: 5
  failureThreshold: 2
{{- end -}}

{{/* Restricted security context of the API-only services (labeler, broker-sync). */}}
{{- define "strait.restrictedSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Scheduling and pod-level fields shared by every workload. dict root. */}}
{{- define "strait.podScheduling" -}}
{{- $v := .root.Values -}}
{{- with (concat ($v.global.imagePullSecrets | default list) ($v.imagePullSecrets | default list)) }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- with $v.priorityClassName | default $v.global.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
{{ toYaml . | indent 2 }}
{{- end }}
{{- end -}}

{{/* Metrics Service (always) and ServiceMonitor (global.serviceMonitor.enabled) of a component. dict root, component. */}}
{{- define "strait.monitoring" -}}
{{- $root := .root -}}
{{- $sm := $root.Values.global.serviceMonitor -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "strait.name" . }}-metrics
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "strait.labels" . | nindent 4 }}
    net.strait.io/metrics: "true"
spec:
  type: ClusterIP
  clusterIP: None
  selector:
    {{- include "strait.selectorLabels" . | nindent 4 }}
  ports:
    - name: metrics
      port: {{ $root.Values.probePort }}
      targetPort: probes
      protocol: TCP
{{- if $sm.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "strait.name" . }}
  namespace: {{ $sm.namespace | default $root.Release.Namespace }}
  labels:
    {{- include "strait.labels" . | nindent 4 }}
    {{- with $sm.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  namespaceSelector:
    matchNames: [{{ $root.Release.Namespace }}]
  selector:
    matchLabels:
      {{- include "strait.selectorLabels" . | nindent 6 }}
      net.strait.io/metrics: "true"
  endpoints:
    - port: metrics
      path: /metrics
      interval: {{ $sm.interval }}
      scrapeTimeout: {{ $sm.scrapeTimeout }}
{{- end }}
{{- end -}}

{{/* PodDisruptionBudget of a component when podDisruptionBudget.enabled. dict root, component. */}}
{{- define "strait.pdb" -}}
{{- $pdb := .root.Values.podDisruptionBudget -}}
{{- if $pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "strait.name" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "strait.labels" . | nindent 4 }}
spec:
  {{- if hasKey $pdb "minAvailable" }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $pdb.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "strait.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{/* ServiceAccount of a component. dict root, component. */}}
{{- define "strait.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "strait.name" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "strait.labels" . | nindent 4 }}
  {{- with .root.Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: true
{{- end -}}

{{/*
Role (namespaced rules) and ClusterRole (cluster-scoped rules) with their bindings to the component's
ServiceAccount. dict root, component, rules (list), clusterRules (list). rbac.extraRules of the
component are appended to the Role, so a new need of a service is a values change.
*/}}
{{- define "strait.rbac" -}}
{{- $name := include "strait.name" . -}}
{{- $ns := .root.Release.Namespace -}}
{{- $rules := concat .rules (.root.Values.rbac.extraRules | default list) -}}
{{- $clusterRules := concat (.clusterRules | default list) (.root.Values.rbac.extraClusterRules | default list) -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}
  namespace: {{ $ns }}
  labels:
    {{- include "strait.labels" . | nindent 4 }}
rules:
  {{- toYaml $rules | nindent 2 }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  namespace: {{ $ns }}
  labels:
    {{- include "strait.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ $ns }}
{{- if $clusterRules }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ printf "%s-%s" $ns $name | trunc 63 | trimSuffix "-" }}
  labels:
    {{- include "strait.labels" . | nindent 4 }}
rules:
  {{- toYaml $clusterRules | nindent 2 }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ printf "%s-%s" $ns $name | trunc 63 | trimSuffix "-" }}
  labels:
    {{- include "strait.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ printf "%s-%s" $ns $name | trunc 63 | trimSuffix "-" }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ $ns }}
{{- end }}
{{- end -}}

{{/* Events (events.k8s.io/v1) the EventRecorder of libs/kube writes: create, then patch a series. */}}
{{- define "strait.eventRules" -}}
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end -}}

{{/*
A component's own leader-election Lease: create (cannot be limited by name); get, update, and list/watch
(libs/kube's LeaderElector watches its Lease with a metadata.name field selector) of that Lease only.
*/}}
{{- define "strait.leaseRules" -}}
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  resourceNames: [{{ .leaseName | quote }}]
  verbs: [get, list, watch, update]
{{- end -}}
