{{/*
The pod of the gateway and its OPA sidecar: the `template` of the Deployment (one replica) or of the
StatefulSet (several), written at the indentation both give it, so that the Deployment's rendering is the
same text it was before the StatefulSet existed.
*/}}
{{- define "aegis.podTemplate" -}}
{{- $secrets := include "aegis.secretsDir" . }}
{{- $tls := .Values.tls.secretName }}
{{- $replicated := include "aegis.replicated" . }}
{{- $postgres := .Values.state.postgres.urlSecret }}
{{- $automation := .Values.automation }}
    metadata:
      labels:
        {{- include "aegis.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # A changed OPA configuration restarts the pod (OPA reads it at start only).
        checksum/opa-config: {{ include (print $.Template.BasePath "/configmap-opa.yaml") . | sha256sum }}
        {{- if $automation.jobs }}
        # So does a changed jobs file (the gateway reads it at start only).
        checksum/automation-jobs: {{ include (print $.Template.BasePath "/configmap-automation.yaml") . | sha256sum }}
        {{- end }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "aegis.serviceAccountName" . }}
      # Neither container talks to the Kubernetes API: no token in the pod.
      automountServiceAccountToken: false
      # No <SERVICE>_PORT variables: a Service named "aegis" would inject AEGIS_PORT,
      # AEGIS_SERVICE_HOST, ... into the gateway's environment, next to its own AEGIS_* settings.
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ int .Values.terminationGracePeriodSeconds }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        # fsGroup makes /data (and the emptyDirs) writable by the gateway, whatever owns the volume's
        # root. Secret files become group-readable by it too (mode 0440): the gateway logs a warning
        # that its keys file is readable by group; the group is this pod's own (README.md).
        fsGroup: 10001
        fsGroupChangePolicy: OnRootMismatch
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: gateway
          image: {{ include "aegis.image" (dict "image" .Values.gateway.image "default" .Chart.AppVersion) | quote }}
          imagePullPolicy: {{ .Values.gateway.image.pullPolicy }}
          args: ["serve"]
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          env:
            - name: AEGIS_GITEA_URL
              value: {{ .Values.gitea.url | quote }}
            - name: AEGIS_GITEA_TOKEN_FILE
              value: {{ $secrets }}/gitea-token
            # The OPA sidecar, on the pod's loopback. The gateway asks it whether its bundles are
            # activated and verifies each new revision's policy data before trusting a decision of it.
            # The bundle's signature is OPA's to check (keys: in its configuration), so the gateway
            # gets no AEGIS_BUNDLE_VERIFICATION_KEY: that setting only concerns a bundle the gateway
            # loads itself (its managed OPA, without AEGIS_OPA_URL), and would be ignored here.
            - name: AEGIS_OPA_URL
              value: http://127.0.0.1:8181
            - name: AEGIS_BIND
              value: 0.0.0.0:8080
            - name: AEGIS_KEYS_FILE
              value: {{ $secrets }}/keys.json
            - name: AEGIS_AUDIT_LOG
              value: /data/audit.jsonl
            {{- if $replicated }}
            # Each replica writes an audit chain of its own, named after its pod: the file becomes
            # /data/audit.<pod>.jsonl and every entry names the pod. A StatefulSet's pod keeps its name
            # and its claim, so a restarted or rescheduled replica goes on with its own chain.
            - name: AEGIS_REPLICA_ID
              valueFrom:
                fieldRef:
                  apiVersion: v1
                  fieldPath: metadata.name
            {{- end }}
            {{- if $postgres.name }}
            # Approvals, write quotas and rollback snapshots in PostgreSQL (shared by the replicas); the
            # URL carries a password, so it comes as a file.
            - name: AEGIS_STATE_URL_FILE
              value: {{ $secrets }}/state-url
            {{- else }}
            - name: AEGIS_STATE_DB
              value: /data/state.db
            {{- end }}
            - name: AEGIS_ALLOWED_HOSTS
              value: {{ include "aegis.allowedHosts" . | quote }}
            {{- with .Values.allowedOrigins }}
            - name: AEGIS_ALLOWED_ORIGINS
              value: {{ join "," . | quote }}
            {{- end }}
            {{- with .Values.trustedProxies }}
            - name: AEGIS_TRUSTED_PROXIES
              value: {{ join "," . | quote }}
            {{- end }}
            {{- if $tls }}
            - name: AEGIS_TLS_CERT
              value: {{ $secrets }}/tls/tls.crt
            - name: AEGIS_TLS_KEY
              value: {{ $secrets }}/tls/tls.key
            {{- else }}
            # insecurePlainHttp: true, chosen by the operator: a mesh or an ingress terminates TLS.
            - name: AEGIS_ALLOW_INSECURE_BIND
              value: "true"
            {{- end }}
            {{- if .Values.secrets.auditSigningKey.name }}
            - name: AEGIS_AUDIT_SIGNING_KEY
              value: {{ $secrets }}/audit-signing-key.pem
            {{- end }}
            {{- if .Values.secrets.adminKey.name }}
            - name: AEGIS_ADMIN_KEY_FILE
              value: {{ $secrets }}/admin-key
            {{- end }}
            {{- if .Values.secrets.requestStateKey.name }}
            - name: AEGIS_REQUEST_STATE_KEY_FILE
              value: {{ $secrets }}/request-state-key
            {{- end }}
            {{- if $automation.jobs }}
            # Automation: the jobs file, from the ConfigMap <fullname>-automation (docs/automation.md).
            - name: AEGIS_JOBS
              value: {{ include "aegis.jobsFile" . }}
            {{- end }}
            {{- if $automation.webhookSecret.secretName }}
            # The Gitea webhook's shared secret: with it, POST /hooks/gitea receives deliveries.
            - name: AEGIS_WEBHOOK_SECRET_FILE
              value: {{ $secrets }}/webhook-secret
            {{- end }}
            {{- if not (kindIs "invalid" $automation.scheduler) }}
            - name: AEGIS_SCHEDULER
              value: {{ $automation.scheduler | toString | quote }}
            {{- end }}
            {{- if not (kindIs "invalid" $automation.queue) }}
            - name: AEGIS_AUTOMATION_QUEUE
              value: {{ int $automation.queue | toString | quote }}
            {{- end }}
            {{- if not (kindIs "invalid" $automation.workers) }}
            - name: AEGIS_AUTOMATION_WORKERS
              value: {{ int $automation.workers | toString | quote }}
            {{- end }}
            - name: AEGIS_LIMITS_BACKEND
              value: {{ .Values.limits.backend | quote }}
            {{- if eq .Values.limits.backend "redis" }}
            - name: AEGIS_REDIS_URL_FILE
              value: {{ $secrets }}/redis-url
            {{- end }}
            - name: WRITE_MODE
              value: {{ .Values.writeMode | toString | quote }}
            - name: TMPDIR
              value: /tmp
            {{- with .Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          securityContext:
            {{- include "aegis.containerSecurityContext" (dict "uid" 10001) | nindent 12 }}
          resources:
            {{- toYaml .Values.gateway.resources | nindent 12 }}
          # The kubelet probes the pod address; /healthz and /readyz skip the Host check that /mcp
          # has, and an HTTPS probe does not verify the certificate.
          startupProbe:
            httpGet:
              path: /healthz
              port: http
              scheme: {{ include "aegis.scheme" . }}
            periodSeconds: 5
            timeoutSeconds: 5
            failureThreshold: {{ int .Values.gateway.startupFailureThreshold }}
          # Alive: the process serves HTTP. Not /readyz, so that OPA or Redis being away does not
          # restart a gateway that would recover by itself.
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
              scheme: {{ include "aegis.scheme" . }}
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 3
          # Ready: OPA answers with a verified bundle, the audit log can be written, the limits
          # backend answers (docs/operations.md).
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
              scheme: {{ include "aegis.scheme" . }}
            periodSeconds: 5
            timeoutSeconds: 5
            failureThreshold: 2
          volumeMounts:
            - name: data
              mountPath: /data
            - name: tmp
              mountPath: /tmp
            - name: gateway-secrets
              mountPath: {{ $secrets }}
              readOnly: true
            {{- if $automation.jobs }}
            - name: automation-jobs
              mountPath: {{ include "aegis.jobsFile" . | dir }}
              readOnly: true
            {{- end }}

        - name: opa
          image: {{ include "aegis.image" (dict "image" .Values.opa.image "default" "") | quote }}
          imagePullPolicy: {{ .Values.opa.image.pullPolicy }}
          args:
            - run
            - --server
            # The policy API on the pod's loopback only: the gateway reaches it there, nothing
            # outside the pod can query or change the policy.
            - --addr=127.0.0.1:8181
            # The kubelet probes the pod's address, never its loopback, so OPA's health must be
            # reachable there: the diagnostic listener serves /health and /metrics only (read-only,
            # no policy or data API). The NetworkPolicy admits only the metrics scrapers to it.
            - --diagnostic-addr=:{{ int .Values.opa.diagnosticPort }}
            - --config-file={{ include "aegis.opaConfigPath" . }}
            # The verification key comes from the Secret as a file, into keys.<keyid>.key.
            - --set-file=keys.{{ .Values.bundles.signing.keyId }}.key={{ include "aegis.opaKeyPath" . }}
            # The data kept as Rego values: a rule set is not converted on every query (docs/policy.md).
            - --optimize-store-for-read-speed
            - --skip-version-check
            - --log-format=json
            - --log-level={{ .Values.opa.logLevel }}
          env:
            # Go's collector at this many percent of the live heap (Go's default: 100).
            - name: GOGC
              value: {{ .Values.opa.gogc | quote }}
          ports:
            - name: opa-diag
              containerPort: {{ int .Values.opa.diagnosticPort }}
              protocol: TCP
          securityContext:
            {{- include "aegis.containerSecurityContext" (dict "uid" 65532) | nindent 12 }}
          resources:
            {{- toYaml .Values.opa.resources | nindent 12 }}
          # Alive: OPA serves HTTP, bundle or not (a bundle service outage must not restart it).
          livenessProbe:
            httpGet:
              path: /health
              port: opa-diag
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 3
          # Ready: every configured bundle is activated (signature verified).
          readinessProbe:
            httpGet:
              path: /health?bundles
              port: opa-diag
            periodSeconds: 5
            timeoutSeconds: 5
            failureThreshold: 2
          volumeMounts:
            - name: opa-config
              mountPath: {{ include "aegis.opaConfigPath" . | dir }}
              readOnly: true
            - name: opa-key
              mountPath: {{ include "aegis.opaKeyPath" . | dir }}
              readOnly: true
            - name: opa-persistence
              mountPath: {{ include "aegis.opaPersistenceDir" . }}
      volumes:
        {{- if not .Values.persistence.enabled }}
        - name: data
          # persistence.enabled: false: the audit log is lost with the pod.
          emptyDir: {}
        {{- else if not $replicated }}
        - name: data
          persistentVolumeClaim:
            claimName: {{ default (printf "%s-data" (include "aegis.fullname" .)) .Values.persistence.existingClaim }}
        {{- end }}
        {{- /* Several replicas: "data" is each pod's own claim, from the StatefulSet's volumeClaimTemplates. */}}
        - name: tmp
          emptyDir:
            medium: Memory
            sizeLimit: {{ .Values.tmp.sizeLimit }}
        - name: opa-persistence
          emptyDir:
            sizeLimit: {{ .Values.opaPersistence.sizeLimit }}
        - name: opa-config
          configMap:
            name: {{ include "aegis.fullname" . }}-opa
            defaultMode: 0444
        {{- if $automation.jobs }}
        - name: automation-jobs
          configMap:
            name: {{ include "aegis.fullname" . }}-automation
            defaultMode: 0444
        {{- end }}
        - name: opa-key
          secret:
            secretName: {{ include "aegis.bundleKeySecret" . }}
            defaultMode: 0400
            items:
              - key: {{ .Values.secrets.bundleVerificationKey.key }}
                path: {{ include "aegis.opaKeyPath" . | base }}
        # Every secret of the gateway, as files in one read-only directory. A Secret changed later
        # reaches the files within a minute or so (the gateway re-reads its keys file by itself; the
        # others are read at start).
        - name: gateway-secrets
          projected:
            defaultMode: 0400
            sources:
              - secret:
                  name: {{ include "aegis.giteaTokenSecret" . }}
                  items:
                    - key: {{ .Values.secrets.giteaToken.key }}
                      path: gitea-token
              - secret:
                  name: {{ include "aegis.apiKeysSecret" . }}
                  items:
                    - key: {{ .Values.secrets.apiKeys.key }}
                      path: keys.json
              {{- with .Values.secrets.auditSigningKey.name }}
              - secret:
                  name: {{ . }}
                  items:
                    - key: {{ $.Values.secrets.auditSigningKey.key }}
                      path: audit-signing-key.pem
              {{- end }}
              {{- with .Values.secrets.adminKey.name }}
              - secret:
                  name: {{ . }}
                  items:
                    - key: {{ $.Values.secrets.adminKey.key }}
                      path: admin-key
              {{- end }}
              {{- with .Values.secrets.requestStateKey.name }}
              - secret:
                  name: {{ . }}
                  items:
                    - key: {{ $.Values.secrets.requestStateKey.key }}
                      path: request-state-key
              {{- end }}
              {{- if eq .Values.limits.backend "redis" }}
              - secret:
                  name: {{ .Values.limits.redis.urlSecret.name }}
                  items:
                    - key: {{ .Values.limits.redis.urlSecret.key }}
                      path: redis-url
              {{- end }}
              {{- if $postgres.name }}
              - secret:
                  name: {{ $postgres.name }}
                  items:
                    - key: {{ $postgres.key }}
                      path: state-url
              {{- end }}
              {{- with $automation.webhookSecret.secretName }}
              - secret:
                  name: {{ . }}
                  items:
                    - key: {{ $automation.webhookSecret.key }}
                      path: webhook-secret
              {{- end }}
              {{- if $tls }}
              - secret:
                  name: {{ $tls }}
                  items:
                    - key: tls.crt
                      path: tls/tls.crt
                    - key: tls.key
                      path: tls/tls.key
              {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- $affinity := .Values.affinity }}
      {{- if and $replicated (ne .Values.podAntiAffinity "none") (not (hasKey $affinity "podAntiAffinity")) }}
      {{- $affinity = merge (include "aegis.podAntiAffinity" . | fromYaml) $affinity }}
      {{- end }}
      {{- with $affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/*
The default anti-affinity of several replicas: each on a node of its own, preferably or strictly
(podAntiAffinity), so that one node going away takes one replica with it, not all of them.
*/}}
{{- define "aegis.podAntiAffinity" -}}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (include "aegis.selectorLabels" . | fromYaml)) }}
podAntiAffinity:
  {{- if eq .Values.podAntiAffinity "required" }}
  requiredDuringSchedulingIgnoredDuringExecution:
    {{- list $term | toYaml | nindent 4 }}
  {{- else }}
  preferredDuringSchedulingIgnoredDuringExecution:
    {{- list (dict "weight" 100 "podAffinityTerm" $term) | toYaml | nindent 4 }}
  {{- end }}
{{- end }}
