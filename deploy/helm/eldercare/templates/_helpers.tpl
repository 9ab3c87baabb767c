{{- define "eldercare.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "eldercare.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "eldercare.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "eldercare.image" -}}
{{- printf "%s/%s:%s" .Values.image.registry .Values.image.repository .Values.image.tag -}}
{{- end -}}

{{/* The pod spec parts every ledger process shares: the image, the settings, the secrets as
files, the data directory, a non-root user and a read-only root file system. */}}
{{- define "eldercare.podCommon" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
containers:
  - name: {{ .component }}
    image: {{ include "eldercare.image" .root }}
    imagePullPolicy: {{ .root.Values.image.pullPolicy }}
    args:
      {{- toYaml .args | nindent 6 }}
    envFrom:
      - configMapRef:
          name: {{ include "eldercare.fullname" .root }}
    {{- with .ports }}
    ports:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .probes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    resources:
      {{- toYaml .resources | nindent 6 }}
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: [ALL]
    volumeMounts:
      - name: secrets
        mountPath: /run/secrets/eldercare
        readOnly: true
      - name: data
        mountPath: /data
      - name: tmp
        mountPath: /tmp
volumes:
  - name: secrets
    projected:
      defaultMode: 0400
      sources:
        - secret:
            name: {{ .root.Values.signingKeySecret.name }}
            items:
              - key: {{ .root.Values.signingKeySecret.key }}
                path: checkpoint-key.pem
        - secret:
            name: {{ .root.Values.eventStore.passwordSecret.name }}
            items:
              - key: {{ .root.Values.eventStore.passwordSecret.key }}
                path: event-store-password
        - secret:
            name: {{ .root.Values.elasticsearch.passwordSecret.name }}
            items:
              - key: {{ .root.Values.elasticsearch.passwordSecret.key }}
                path: es-password
        {{- if .root.Values.console.clientSecret.name }}
        - secret:
            name: {{ .root.Values.console.clientSecret.name }}
            items:
              - key: {{ .root.Values.console.clientSecret.key }}
                path: oidc-client-secret
        {{- end }}
  - name: data
    persistentVolumeClaim:
      claimName: {{ include "eldercare.fullname" .root }}-data
  - name: tmp
    emptyDir: {}
{{- end -}}
