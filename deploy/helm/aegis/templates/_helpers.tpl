{{/*
Names and labels.
*/}}
{{- define "aegis.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aegis.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "aegis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aegis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "aegis.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "aegis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aegis
{{- end }}

{{- define "aegis.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aegis.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference: repository:tag, or repository@digest when a digest is given.
Usage: include "aegis.image" (dict "image" .Values.gateway.image "default" .Chart.AppVersion)
*/}}
{{- define "aegis.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- $tag := default .default .image.tag | toString }}
{{- if not $tag }}
{{- fail (printf "the image %s needs a tag or a digest" .image.repository) }}
{{- end }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{/*
The Secret names, defaulted from the fullname.
*/}}
{{- define "aegis.giteaTokenSecret" -}}
{{- default (printf "%s-gitea-token" (include "aegis.fullname" .)) .Values.secrets.giteaToken.name }}
{{- end }}
{{- define "aegis.apiKeysSecret" -}}
{{- default (printf "%s-api-keys" (include "aegis.fullname" .)) .Values.secrets.apiKeys.name }}
{{- end }}
{{- define "aegis.bundleKeySecret" -}}
{{- default (printf "%s-bundle-verification-key" (include "aegis.fullname" .)) .Values.secrets.bundleVerificationKey.name }}
{{- end }}

{{/*
Where things are mounted. The gateway's secrets are one read-only projected volume; OPA's key is a
volume of its own, mounted in OPA's container only.
*/}}
{{- define "aegis.secretsDir" -}}/run/secrets/aegis{{- end }}
{{- define "aegis.opaKeyPath" -}}/run/secrets/opa/bundle-verification-key{{- end }}
{{- define "aegis.opaConfigPath" -}}/etc/opa/config.yaml{{- end }}
{{- define "aegis.opaPersistenceDir" -}}/var/opa{{- end }}
{{- define "aegis.jobsFile" -}}/etc/aegis/automation/jobs.yaml{{- end }}

{{/*
The names of the jobs in automation.jobs that a Gitea webhook starts, comma-separated ("" for none).
The text is read as YAML here only to find them; the gateway validates it in full at start. Text that
does not read as a jobs map falls back to a plain search for "webhook:".
*/}}
{{- define "aegis.webhookJobs" -}}
{{- $text := .Values.automation.jobs }}
{{- $doc := fromYaml $text }}
{{- if or (hasKey $doc "Error") (not (kindIs "map" $doc.jobs)) }}
{{- if contains "webhook:" $text }}a job with a webhook: trigger{{ end }}
{{- else }}
{{- $hooked := list }}
{{- range $name, $job := $doc.jobs }}
{{- if kindIs "map" $job }}
{{- if kindIs "map" $job.trigger }}
{{- if hasKey $job.trigger "webhook" }}
{{- $hooked = append $hooked $name }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- join ", " $hooked }}
{{- end }}
{{- end }}

{{/*
The port of an http(s) URL: the explicit one, else 443 for https and 80 for http.
Usage: include "aegis.urlPort" "https://gitea.example.com:3000"
*/}}
{{- define "aegis.urlPort" -}}
{{- $url := urlParse . }}
{{- $explicit := regexFind ":[0-9]+$" $url.host }}
{{- if $explicit }}
{{- trimPrefix ":" $explicit }}
{{- else if eq $url.scheme "https" }}443
{{- else }}80
{{- end }}
{{- end }}

{{/*
More than one replica: a StatefulSet of gateways sharing their state, instead of the one Deployment.
"true" or "" (a template can only return text).
*/}}
{{- define "aegis.replicated" -}}
{{- if gt (int .Values.replicas) 1 }}true{{ end }}
{{- end }}

{{/*
The StatefulSet's governing Service (headless), within the 63 characters of a Service name.
*/}}
{{- define "aegis.headlessService" -}}
{{- printf "%s-headless" (include "aegis.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{/*
The checks that make rendering fail with a message naming the value to set. Included by
deployment.yaml whether or not it renders the Deployment, so every render runs them once.
*/}}
{{- define "aegis.validate" -}}
{{- $v := .Values }}
{{- if lt (int $v.replicas) 0 }}
{{- fail "replicas must be 0 or more" }}
{{- end }}
{{- if include "aegis.replicated" . }}
{{- /* Several gateways: what one process kept to itself must be shared, all of it named at once. */}}
{{- $shared := list }}
{{- if not $v.state.postgres.urlSecret.name }}
{{- $shared = append $shared "state.postgres.urlSecret.name: a Secret holding the postgresql:// URL of the database the replicas share approvals, write quotas and rollback snapshots in" }}
{{- end }}
{{- if ne $v.limits.backend "redis" }}
{{- $shared = append $shared "limits.backend: redis and limits.redis.urlSecret.name: a Secret holding the URL of the Redis the replicas share rate limits in" }}
{{- else if not $v.limits.redis.urlSecret.name }}
{{- $shared = append $shared "limits.redis.urlSecret.name: a Secret holding the URL of the Redis the replicas share rate limits in" }}
{{- end }}
{{- if not $v.secrets.requestStateKey.name }}
{{- $shared = append $shared "secrets.requestStateKey.name: a Secret holding the key (32 or more random characters) the replicas seal and open the requestState of held calls with" }}
{{- end }}
{{- if $shared }}
{{- fail (printf "replicas is %v, and several gateways need shared state: set %s (README.md, \"Several replicas\"). Or set replicas: 1." $v.replicas (join "; and " $shared)) }}
{{- end }}
{{- if $v.persistence.existingClaim }}
{{- fail (printf "persistence.existingClaim names one claim, which replicas cannot share: with replicas %v each pod gets its own claim from the StatefulSet, data-%s-<ordinal> (create claims of those names beforehand to bring volumes of your own), so unset persistence.existingClaim" $v.replicas (include "aegis.fullname" .)) }}
{{- end }}
{{- $name := include "aegis.fullname" . }}
{{- if or (gt (len $name) 52) (not (regexMatch "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$" $name)) (not (regexMatch "[a-z]" $name)) }}
{{- fail (printf "with replicas > 1 the full name %q names the pods, and each pod's name is its AEGIS_REPLICA_ID: it must be a DNS label (a-z, 0-9, -) with a letter, of at most 52 characters (a StatefulSet labels its pods <name>-<revision hash>, at most 63). Set fullnameOverride" $name) }}
{{- end }}
{{- end }}
{{- if not (has $v.podAntiAffinity (list "preferred" "required" "none")) }}
{{- fail (printf "podAntiAffinity must be preferred, required or none, got %q" $v.podAntiAffinity) }}
{{- end }}
{{- /* The choices the chart does not make for the operator, named all at once. */}}
{{- $missing := list }}
{{- if not (regexMatch "^https?://[^/]+" $v.gitea.url) }}
{{- $missing = append $missing "gitea.url: the Gitea's http(s) base URL, e.g. https://gitea.example.com" }}
{{- end }}
{{- if not (regexMatch "^https?://[^/]+" $v.bundles.url) }}
{{- $missing = append $missing "bundles.url: the bundle service's http(s) base URL, e.g. http://aegis-bundles.aegis.svc:8888" }}
{{- end }}
{{- if not (or $v.tls.secretName $v.insecurePlainHttp) }}
{{- $missing = append $missing "how port 8080 is protected: tls.secretName (the gateway serves HTTPS with that kubernetes.io/tls Secret), or insecurePlainHttp: true (plain HTTP, only when a mesh or an ingress terminates TLS in front of the gateway)" }}
{{- end }}
{{- if $missing }}
{{- fail (printf "set %s" (join "; and " $missing)) }}
{{- end }}
{{- if and $v.tls.secretName $v.insecurePlainHttp }}
{{- fail "set tls.secretName or insecurePlainHttp: true, not both" }}
{{- end }}
{{- if not (has $v.limits.backend (list "memory" "redis")) }}
{{- fail (printf "limits.backend must be memory or redis, got %q" $v.limits.backend) }}
{{- end }}
{{- if and (eq $v.limits.backend "redis") (not $v.limits.redis.urlSecret.name) }}
{{- fail "limits.backend redis needs limits.redis.urlSecret.name: a Secret holding the Redis URL" }}
{{- end }}
{{- if not (regexMatch "^[A-Za-z0-9_-]+$" $v.bundles.signing.keyId) }}
{{- fail "bundles.signing.keyId must be letters, digits, _ and - only (it is a key of OPA's configuration)" }}
{{- end }}
{{- if not (has $v.bundles.signing.algorithm (list "RS256" "RS384" "RS512" "PS256" "PS384" "PS512" "ES256" "ES384" "ES512" "HS256" "HS384" "HS512")) }}
{{- fail (printf "bundles.signing.algorithm %q is not one OPA verifies (RS*, PS*, ES*, HS* 256/384/512)" $v.bundles.signing.algorithm) }}
{{- end }}
{{- if gt (int $v.bundles.polling.minDelaySeconds) (int $v.bundles.polling.maxDelaySeconds) }}
{{- fail "bundles.polling.minDelaySeconds must not exceed maxDelaySeconds" }}
{{- end }}
{{- if $v.automation.jobs }}
{{- $hooked := include "aegis.webhookJobs" . }}
{{- if and $hooked (not $v.automation.webhookSecret.secretName) }}
{{- fail (printf "automation.jobs has jobs a Gitea webhook starts (%s), which need automation.webhookSecret.secretName: a Secret holding the webhook's shared secret (at least 32 random characters, `openssl rand -hex 32`). The gateway refuses to start without it too (README.md, \"Automation\")" $hooked) }}
{{- end }}
{{- end }}
{{- $managed := include "aegis.managedEnvNames" . | fromJsonArray }}
{{- range $v.extraEnv }}
{{- if has .name $managed }}
{{- fail (printf "extraEnv sets %s, which the chart sets itself: use the chart's value for it (README.md)" .name) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Every environment variable the chart sets on the gateway, or deliberately leaves unset (a value of
extraEnv may not bring them back: the explicit TLS choice, OPA's address and the secrets' forms are
the chart's).
*/}}
{{- define "aegis.managedEnvNames" -}}
{{- list
  "AEGIS_GITEA_URL" "AEGIS_GITEA_TOKEN" "AEGIS_GITEA_TOKEN_FILE" "AEGIS_OPA_URL" "AEGIS_BIND"
  "AEGIS_KEYS_FILE" "AEGIS_AUDIT_LOG" "AEGIS_STATE_DB" "AEGIS_STATE_URL" "AEGIS_STATE_URL_FILE"
  "AEGIS_REPLICA_ID" "AEGIS_ALLOWED_HOSTS" "AEGIS_ALLOWED_ORIGINS"
  "AEGIS_TRUSTED_PROXIES" "AEGIS_TLS_CERT" "AEGIS_TLS_KEY" "AEGIS_ALLOW_INSECURE_BIND"
  "AEGIS_AUDIT_SIGNING_KEY" "AEGIS_ADMIN_KEY" "AEGIS_ADMIN_KEY_FILE" "AEGIS_LIMITS_BACKEND"
  "AEGIS_REDIS_URL" "AEGIS_REDIS_URL_FILE" "WRITE_MODE" "AEGIS_BUNDLE_VERIFICATION_KEY"
  "AEGIS_BUNDLE_SIGNING_ALG" "AEGIS_JOBS" "AEGIS_WEBHOOK_SECRET" "AEGIS_WEBHOOK_SECRET_FILE"
  "AEGIS_SCHEDULER" "AEGIS_AUTOMATION_QUEUE" "AEGIS_AUTOMATION_WORKERS" "TMPDIR" | toJson }}
{{- end }}

{{/*
The host names the gateway accepts on /mcp: the Service's, then allowedHosts.
*/}}
{{- define "aegis.allowedHosts" -}}
{{- $svc := include "aegis.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- $names := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) }}
{{- concat $names .Values.allowedHosts | uniq | join "," }}
{{- end }}

{{/*
The probe scheme of the gateway's port.
*/}}
{{- define "aegis.scheme" -}}
{{- if .Values.tls.secretName }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{/*
The security context both containers share: nothing to escalate to, no capabilities, no writes to
the image. The user differs per container (the images' own: 10001 and 65532).
*/}}
{{- define "aegis.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}
