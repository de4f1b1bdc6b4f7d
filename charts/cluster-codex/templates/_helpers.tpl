{{- define "cluster-codex.labels" -}}
app.kubernetes.io/name: cluster-codex
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: cluster-codex
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "cluster-codex.appSubject" -}}
{{- if eq .Values.appSubject.kind "ServiceAccount" }}
- kind: ServiceAccount
  name: {{ .Values.appSubject.name }}
  namespace: {{ .Values.appSubject.namespace }}
{{- else if eq .Values.appSubject.kind "User" }}
- kind: User
  apiGroup: rbac.authorization.k8s.io
  name: {{ .Values.appSubject.name }}
{{- else }}
{{- fail "appSubject.kind must be User or ServiceAccount" }}
{{- end }}
{{- end }}

{{/* The username the API server sees for the app (what the binding policy matches on). */}}
{{- define "cluster-codex.appUsername" -}}
{{- if eq .Values.appSubject.kind "ServiceAccount" -}}
system:serviceaccount:{{ .Values.appSubject.namespace }}:{{ .Values.appSubject.name }}
{{- else -}}
{{ .Values.appSubject.name }}
{{- end -}}
{{- end }}

{{/* The grantable kinds: name -> rules of cluster-codex:view:<kind>. Keep in sync with app/kinds.py
KINDS (tests/security/test_06_app_identity.py checks). */}}
{{- define "cluster-codex.kinds" -}}
pods:
  - {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
  - {apiGroups: [""], resources: [pods/log], verbs: [get]}
deployments:
  - {apiGroups: [apps], resources: [deployments], verbs: [get, list, watch]}
statefulsets:
  - {apiGroups: [apps], resources: [statefulsets], verbs: [get, list, watch]}
daemonsets:
  - {apiGroups: [apps], resources: [daemonsets], verbs: [get, list, watch]}
replicasets:
  - {apiGroups: [apps], resources: [replicasets], verbs: [get, list, watch]}
jobs:
  - {apiGroups: [batch], resources: [jobs], verbs: [get, list, watch]}
cronjobs:
  - {apiGroups: [batch], resources: [cronjobs], verbs: [get, list, watch]}
horizontalpodautoscalers:
  - {apiGroups: [autoscaling], resources: [horizontalpodautoscalers], verbs: [get, list, watch]}
services:
  - {apiGroups: [""], resources: [services], verbs: [get, list, watch]}
ingresses:
  - {apiGroups: [networking.k8s.io], resources: [ingresses], verbs: [get, list, watch]}
configmaps:
  - {apiGroups: [""], resources: [configmaps], verbs: [get, list, watch]}
persistentvolumeclaims:
  - {apiGroups: [""], resources: [persistentvolumeclaims], verbs: [get, list, watch]}
events:
  - {apiGroups: [""], resources: [events], verbs: [get, list, watch]}
  - {apiGroups: [events.k8s.io], resources: [events], verbs: [get, list, watch]}
secrets:
  # list only (the app asks for metadata-only lists and shows names). RBAC cannot say "names
  # only": through the API this list returns the values too, and the admin portal says so.
  - {apiGroups: [""], resources: [secrets], verbs: [list]}
{{- end }}

{{/* The changeable kinds: name -> rules of cluster-codex:change:<kind>, what kubectl needs to
create, patch (set, label, annotate, rollout restart|pause|resume), scale, roll back and delete one
object of the kind. Keep in sync with app/access.py CHANGEABLE_KINDS: events and secrets are view
only. Never deletecollection, pods/exec|attach|portforward|eviction, escalate, bind or impersonate. */}}
{{- define "cluster-codex.changeKinds" -}}
{{- $write := "[get, list, watch, create, update, patch, delete]" -}}
pods:
  - {apiGroups: [""], resources: [pods], verbs: {{ $write }}}
deployments:
  - {apiGroups: [apps], resources: [deployments], verbs: {{ $write }}}
  - {apiGroups: [apps], resources: [deployments/scale], verbs: [get, update, patch]}
  # rollout undo|history|status read the Deployment's ReplicaSets
  - {apiGroups: [apps], resources: [replicasets], verbs: [get, list, watch]}
statefulsets:
  - {apiGroups: [apps], resources: [statefulsets], verbs: {{ $write }}}
  - {apiGroups: [apps], resources: [statefulsets/scale], verbs: [get, update, patch]}
  # rollout undo|history read the revisions
  - {apiGroups: [apps], resources: [controllerrevisions], verbs: [get, list, watch]}
daemonsets:
  - {apiGroups: [apps], resources: [daemonsets], verbs: {{ $write }}}
  - {apiGroups: [apps], resources: [controllerrevisions], verbs: [get, list, watch]}
replicasets:
  - {apiGroups: [apps], resources: [replicasets], verbs: {{ $write }}}
  - {apiGroups: [apps], resources: [replicasets/scale], verbs: [get, update, patch]}
jobs:
  - {apiGroups: [batch], resources: [jobs], verbs: {{ $write }}}
cronjobs:
  - {apiGroups: [batch], resources: [cronjobs], verbs: {{ $write }}}
horizontalpodautoscalers:
  - {apiGroups: [autoscaling], resources: [horizontalpodautoscalers], verbs: {{ $write }}}
services:
  - {apiGroups: [""], resources: [services], verbs: {{ $write }}}
ingresses:
  - {apiGroups: [networking.k8s.io], resources: [ingresses], verbs: {{ $write }}}
configmaps:
  - {apiGroups: [""], resources: [configmaps], verbs: {{ $write }}}
persistentvolumeclaims:
  - {apiGroups: [""], resources: [persistentvolumeclaims], verbs: {{ $write }}}
{{- end }}

{{/* The ClusterRoles the app may bind (app-rbac.yaml) and the only ones the policy lets it
(app-binding-policy.yaml): cluster-codex:view:<kind> and cluster-codex:change:<kind>. */}}
{{- define "cluster-codex.bindableRoles" -}}
{{- range $kind, $_ := (include "cluster-codex.kinds" . | fromYaml) }}
- cluster-codex:view:{{ $kind }}
{{- end }}
{{- range $kind, $_ := (include "cluster-codex.changeKinds" . | fromYaml) }}
- cluster-codex:change:{{ $kind }}
{{- end }}
{{- end }}
