{{/*
Chart name, truncated to the 63 characters a label value may have.
*/}}
{{- define "todo-chatbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name: "<release>-<chart>", or the release name when it already contains the
chart name. At most 41 characters, so that every derived name stays valid: the StatefulSet's
"<fullname>-postgresql" plus the 11-character "-<hash>" of its controller-revision-hash label
must fit the 63 characters of a label value.
*/}}
{{- define "todo-chatbot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 41 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 41 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 41 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart label value: "<name>-<version>".
*/}}
{{- define "todo-chatbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of one component. Call with (dict "ctx" $ "component" "backend").
*/}}
{{- define "todo-chatbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-chatbot.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Labels every pod of the release carries, whatever its component: what the default-deny and DNS
NetworkPolicies select.
*/}}
{{- define "todo-chatbot.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-chatbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Standard labels of one component. Call with (dict "ctx" $ "component" "backend").
*/}}
{{- define "todo-chatbot.labels" -}}
helm.sh/chart: {{ include "todo-chatbot.chart" .ctx }}
{{ include "todo-chatbot.selectorLabels" . }}
{{- with .ctx.Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/part-of: {{ include "todo-chatbot.name" .ctx }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end }}

{{/*
Image reference: "repository@digest" when a digest is given, else "repository:tag" (tag defaults
to the chart's appVersion). Call with (dict "image" .Values.backend.image "ctx" $).
*/}}
{{- define "todo-chatbot.image" -}}
{{- $repo := required "image.repository is required" .image.repository -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString (default .ctx.Chart.AppVersion .image.tag)) -}}
{{- end -}}
{{- end }}

{{/*
A port the chart's containers listen on: "http" (backend and frontend, as their images are
built: backend/Dockerfile's PORT, frontend/nginx.conf's listen) or "postgresql". Decided here
once; the Pulumi program's infra.HTTPPort is the same number and a test proves it.
Call with the port's name: include "todo-chatbot.port" "http".
*/}}
{{- define "todo-chatbot.port" -}}
{{- $ports := dict "http" 8080 "postgresql" 5432 -}}
{{- required (printf "todo-chatbot.port: no port %q" .) (get $ports .) -}}
{{- end }}

{{/*
A key of the app's Secret. The Pulumi program writes the Secret with the same keys
(infra.SecretKey*); a test proves that every key a pod reads is one the program writes, and the
reverse. The external database URL's key is a value (externalDatabase.key).
Call with the key's name: include "todo-chatbot.secretKey" "jwt".
*/}}
{{- define "todo-chatbot.secretKey" -}}
{{- $keys := dict "jwt" "jwt-secret" "postgresPassword" "postgres-password" "llmApiKey" "llm-api-key" -}}
{{- required (printf "todo-chatbot.secretKey: no key %q" .) (get $keys .) -}}
{{- end }}

{{/*
Name of the Secret the pods read: existingSecret, or the one the chart renders.
*/}}
{{- define "todo-chatbot.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else }}
{{- include "todo-chatbot.fullname" . }}
{{- end }}
{{- end }}

{{/*
Secret and key of the external DATABASE_URL.
*/}}
{{- define "todo-chatbot.externalDatabaseSecretName" -}}
{{- default (include "todo-chatbot.secretName" .) .Values.externalDatabase.existingSecret }}
{{- end }}

{{/*
ServiceAccount name of one component. Call with (dict "ctx" $ "component" "backend" "sa" .Values.backend.serviceAccount).
*/}}
{{- define "todo-chatbot.serviceAccountName" -}}
{{- if .sa.create }}
{{- default (printf "%s-%s" (include "todo-chatbot.fullname" .ctx) .component) .sa.name }}
{{- else }}
{{- default "default" .sa.name }}
{{- end }}
{{- end }}

{{/*
Pod-level securityContext meeting the Pod Security Standards "restricted" profile.
Call with the component's podSecurityContext values.
*/}}
{{- define "todo-chatbot.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsGroup }}
fsGroup: {{ .fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Container-level securityContext meeting the "restricted" profile, with a read-only root file
system. Call with the component's podSecurityContext values.
*/}}
{{- define "todo-chatbot.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsGroup }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Whether a Deployment may run more than one pod (replicas > 1 or an HPA).
Call with the component's values; prints "true" or nothing.
*/}}
{{- define "todo-chatbot.multiReplica" -}}
{{- if or .autoscaling.enabled (gt (int .replicaCount) 1) }}true{{- end }}
{{- end }}

{{/*
Scheduling of a Deployment's pods: node selector, tolerations, affinity (a preferred host
anti-affinity by default when it may run several pods) and a hostname topology spread.
Call with (dict "ctx" $ "component" "backend" "values" .Values.backend).
*/}}
{{- define "todo-chatbot.scheduling" -}}
{{- $multi := include "todo-chatbot.multiReplica" .values }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .values.affinity }}
affinity:
  {{- toYaml .values.affinity | nindent 2 }}
{{- else if $multi }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "todo-chatbot.selectorLabels" . | nindent 14 }}
{{- end }}
{{- if $multi }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "todo-chatbot.selectorLabels" . | nindent 8 }}
{{- end }}
{{- end }}

{{/*
kube-score checks a workload opts out of, with the reason in README.md ("kube-score"):
- container-image-pull-policy when the pull policy is not Always: images are pinned by a
  content-hash tag or a digest, and Minikube's locally built images cannot be pulled at all.
Call with (dict "image" .Values.backend.image "extra" (list ...)).
*/}}
{{- define "todo-chatbot.kubeScoreIgnore" -}}
{{- $ignore := default (list) .extra }}
{{- if ne .image.pullPolicy "Always" }}
{{- $ignore = append $ignore "container-image-pull-policy" }}
{{- end }}
{{- with $ignore }}
kube-score/ignore: {{ join "," . | quote }}
{{- end }}
{{- end }}

{{/*
Name of the read-only ops identity: its ServiceAccount, Role, RoleBinding and kagent Agent.
*/}}
{{- define "todo-chatbot.opsName" -}}
{{- printf "%s-ops" (include "todo-chatbot.fullname" .) }}
{{- end }}

{{/*
Whole seconds of a duration written as "<n>s" or "<n>m"; empty for any other form.
*/}}
{{- define "todo-chatbot.seconds" -}}
{{- if regexMatch "^[0-9]+s$" . -}}
{{- trimSuffix "s" . -}}
{{- else if regexMatch "^[0-9]+m$" . -}}
{{- mul (atoi (trimSuffix "m" .)) 60 -}}
{{- end -}}
{{- end -}}
