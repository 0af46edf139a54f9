{{/* vim: set filetype=mustache: */}}
{{/*
Expand the name of the chart.
*/}}
{{- define "stepcast.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
Truncated at 52 characters: the CronJob controller appends an 11-character suffix to job names,
and StatefulSet pod names (name-N) must stay valid label values.
*/}}
{{- define "stepcast.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Namespace of every resource.
*/}}
{{- define "stepcast.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "stepcast.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "stepcast.labels" -}}
helm.sh/chart: {{ include "stepcast.chart" . }}
{{ include "stepcast.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: stepcast
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels shared by every component of a release.
*/}}
{{- define "stepcast.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stepcast.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Selector labels of the stream-processing pods. The component label keeps the trainer's pods out
of the Services and the PodDisruptionBudget.
*/}}
{{- define "stepcast.serverSelectorLabels" -}}
{{ include "stepcast.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/*
Name of the headless Service that governs the StatefulSet.
*/}}
{{- define "stepcast.headlessServiceName" -}}
{{- printf "%s-headless" (include "stepcast.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of the ServiceAccount.
*/}}
{{- define "stepcast.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "stepcast.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Name of the ConfigMap that holds the topology spec.
*/}}
{{- define "stepcast.topologyConfigMapName" -}}
{{- default (printf "%s-topology" (include "stepcast.fullname" .)) .Values.existingTopologyConfigMap }}
{{- end }}

{{/*
Path of the topology spec inside the containers.
*/}}
{{- define "stepcast.topologyPath" -}}
/etc/stepcast/topology/{{ .Values.topologyConfigMapKey }}
{{- end }}

{{/*
Image of the stream-processing pods: the CUDA build when gpu.enabled.
*/}}
{{- define "stepcast.image" -}}
{{- if .Values.gpu.enabled }}
{{- $repository := default .Values.image.repository .Values.gpu.image.repository }}
{{- $tag := default (printf "%s-cuda" .Chart.AppVersion) .Values.gpu.image.tag }}
{{- printf "%s:%s" $repository $tag }}
{{- else if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Image of the trainer: docker/Dockerfile's trainer target (the server's libraries plus DJL and
PyTorch; the server image has no trainer). Default <image.repository>:<image.tag or appVersion>-trainer;
trainer.image.digest pins it.
*/}}
{{- define "stepcast.trainerImage" -}}
{{- $repository := default .Values.image.repository .Values.trainer.image.repository }}
{{- if .Values.trainer.image.digest }}
{{- printf "%s@%s" $repository .Values.trainer.image.digest }}
{{- else }}
{{- $tag := default (printf "%s-trainer" (.Values.image.tag | default .Chart.AppVersion)) .Values.trainer.image.tag }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}
{{- end }}

{{/*
Kafka security.protocol, derived from sasl.enabled and tls.enabled unless set.
*/}}
{{- define "stepcast.kafka.securityProtocol" -}}
{{- $k := .Values.kafka }}
{{- if $k.securityProtocol }}
{{- $k.securityProtocol }}
{{- else if and $k.sasl.enabled $k.tls.enabled }}
{{- print "SASL_SSL" }}
{{- else if $k.sasl.enabled }}
{{- print "SASL_PLAINTEXT" }}
{{- else if $k.tls.enabled }}
{{- print "SSL" }}
{{- else }}
{{- print "PLAINTEXT" }}
{{- end }}
{{- end }}

{{/*
File name of a mounted store, by its type.
*/}}
{{- define "stepcast.kafka.storeFile" -}}
{{- $ext := get (dict "PKCS12" "p12" "JKS" "jks" "PEM" "pem") (upper .type) | default "p12" }}
{{- printf "%s.%s" .name $ext }}
{{- end }}

{{/*
Environment of every container that talks to Kafka: bootstrap servers, security, extra client
properties. Each STEPCAST_KAFKA_<NAME> variable is a Kafka client property (<name> lower-cased,
underscores to dots). The SASL credentials come from the Secret as plain variables (their names
lack the STEPCAST_ prefix so stepcast never reads them as settings) and are spliced into the JAAS
config with Kubernetes' $(VAR) expansion, so they never appear in the pod spec.
*/}}
{{- define "stepcast.kafka.env" -}}
{{- $k := .Values.kafka -}}
- name: STEPCAST_BOOTSTRAP_SERVERS
  value: {{ required "kafka.bootstrapServers is required" $k.bootstrapServers | quote }}
- name: STEPCAST_KAFKA_SECURITY_PROTOCOL
  value: {{ include "stepcast.kafka.securityProtocol" . | quote }}
{{- if $k.sasl.enabled }}
{{- $secret := required "kafka.sasl.existingSecret is required when kafka.sasl.enabled" $k.sasl.existingSecret }}
{{- $module := "org.apache.kafka.common.security.scram.ScramLoginModule" }}
{{- if eq $k.sasl.mechanism "PLAIN" }}
{{- $module = "org.apache.kafka.common.security.plain.PlainLoginModule" }}
{{- else if not (has $k.sasl.mechanism (list "SCRAM-SHA-256" "SCRAM-SHA-512")) }}
{{- fail (printf "kafka.sasl.mechanism %q is not supported: use SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN" $k.sasl.mechanism) }}
{{- end }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $k.sasl.usernameKey }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $k.sasl.passwordKey }}
- name: STEPCAST_KAFKA_SASL_MECHANISM
  value: {{ $k.sasl.mechanism | quote }}
- name: STEPCAST_KAFKA_SASL_JAAS_CONFIG
  value: {{ printf "%s required username=\"$(KAFKA_SASL_USERNAME)\" password=\"$(KAFKA_SASL_PASSWORD)\";" $module | quote }}
{{- end }}
{{- if $k.tls.enabled }}
{{- if not $k.tls.verifyHostname }}
- name: STEPCAST_KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM
  value: ""
{{- end }}
{{- with $k.tls.truststore }}
{{- if .existingSecret }}
- name: STEPCAST_KAFKA_SSL_TRUSTSTORE_LOCATION
  value: {{ printf "/etc/stepcast/tls/%s" (include "stepcast.kafka.storeFile" (dict "name" "truststore" "type" .type)) | quote }}
- name: STEPCAST_KAFKA_SSL_TRUSTSTORE_TYPE
  value: {{ upper .type | quote }}
{{- if .passwordKey }}
- name: STEPCAST_KAFKA_SSL_TRUSTSTORE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default .existingSecret .passwordSecret }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
{{- end }}
{{- with $k.tls.keystore }}
{{- if .existingSecret }}
- name: STEPCAST_KAFKA_SSL_KEYSTORE_LOCATION
  value: {{ printf "/etc/stepcast/tls/%s" (include "stepcast.kafka.storeFile" (dict "name" "keystore" "type" .type)) | quote }}
- name: STEPCAST_KAFKA_SSL_KEYSTORE_TYPE
  value: {{ upper .type | quote }}
{{- if .passwordKey }}
- name: STEPCAST_KAFKA_SSL_KEYSTORE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default .existingSecret .passwordSecret }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- range $name, $value := $k.extraProperties }}
- name: {{ printf "STEPCAST_KAFKA_%s" ($name | upper | replace "." "_" | replace "-" "_") }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
True when a TLS store has to be mounted.
*/}}
{{- define "stepcast.kafka.mountsTls" -}}
{{- $t := .Values.kafka.tls }}
{{- if and $t.enabled (or $t.truststore.existingSecret $t.keystore.existingSecret) }}true{{ end }}
{{- end }}

{{/*
Projected volume with the TLS stores at /etc/stepcast/tls/{truststore,keystore}.<ext>.
*/}}
{{- define "stepcast.kafka.tlsVolume" -}}
{{- $t := .Values.kafka.tls -}}
- name: kafka-tls
  projected:
    defaultMode: 0440
    sources:
      {{- with $t.truststore }}
      {{- if .existingSecret }}
      - secret:
          name: {{ .existingSecret }}
          items:
            - key: {{ .key }}
              path: {{ include "stepcast.kafka.storeFile" (dict "name" "truststore" "type" .type) }}
      {{- end }}
      {{- end }}
      {{- with $t.keystore }}
      {{- if .existingSecret }}
      - secret:
          name: {{ .existingSecret }}
          items:
            - key: {{ .key }}
              path: {{ include "stepcast.kafka.storeFile" (dict "name" "keystore" "type" .type) }}
      {{- end }}
      {{- end }}
{{- end }}

{{/*
Container security context, shared by the server and the trainer.
*/}}
{{- define "stepcast.containerSecurityContext" -}}
{{- with .Values.containerSecurityContext -}}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
