{{/* Names, labels and the values every template shares. */}}

{{- define "gateway-orchestrator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gateway-orchestrator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "gateway-orchestrator.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "gateway-orchestrator.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "gateway-orchestrator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gateway-orchestrator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gateway-orchestrator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gateway-orchestrator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gateway-orchestrator
{{- end }}

{{- define "gateway-orchestrator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gateway-orchestrator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gateway-orchestrator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "gateway-orchestrator.webhookService" -}}
{{- printf "%s-webhook" (include "gateway-orchestrator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gateway-orchestrator.webhookSecret" -}}
{{- printf "%s-webhook-tls" (include "gateway-orchestrator.fullname" .) }}
{{- end }}

{{- define "gateway-orchestrator.certificate" -}}
{{- printf "%s-serving-cert" (include "gateway-orchestrator.fullname" .) }}
{{- end }}

{{/* kube-system and the release namespace never reach the webhooks (webhook.NamespaceSelector). */}}
{{- define "gateway-orchestrator.namespaceSelector" -}}
matchExpressions:
- key: kubernetes.io/metadata.name
  operator: NotIn
  values:
  - kube-system
  - {{ .Release.Namespace }}
  {{- range .Values.webhook.excludeNamespaces }}
  - {{ . }}
  {{- end }}
{{- end }}

{{/* Fails rendering without the values that have no safe default. */}}
{{- define "gateway-orchestrator.validate" -}}
{{- $_ := required "clusterName is required: it names this cluster in AWS tags and DNS ownership markers (for example --set clusterName=prod-eu-1)" .Values.clusterName }}
{{- if eq .Values.clusterName "default" }}
{{- fail "clusterName must not be \"default\": choose a name unique in the AWS account" }}
{{- end }}
{{- $_ := required "region is required: the AWS region of the certificates and load balancers (for example --set region=eu-west-1)" .Values.region }}
{{- if not (has .Values.webhook.certificateSource (list "helm" "certManager")) }}
{{- fail "webhook.certificateSource must be \"helm\" or \"certManager\"" }}
{{- end }}
{{- if hasKey .Values "shutdownDelaySeconds" }}
{{- if lt (int .Values.shutdownDelaySeconds) 0 }}
{{- fail "shutdownDelaySeconds must be 0 or more" }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (add 30 (int .Values.shutdownDelaySeconds)) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed shutdownDelaySeconds + 30 (%d): a stopping pod serves admission for the delay, then has 30 s to finish; the kubelet kills it at the grace period" (int .Values.terminationGracePeriodSeconds) (add 30 (int .Values.shutdownDelaySeconds))) }}
{{- end }}
{{- end }}
{{- if and .Values.networkPolicy.enabled (not .Values.networkPolicy.webhookFrom) }}
{{- fail "networkPolicy.webhookFrom is required when networkPolicy.enabled: where the API server connects from (on EKS the CIDRs of the cluster's subnets), so that nothing else reaches the webhook port" }}
{{- end }}
{{- end }}
