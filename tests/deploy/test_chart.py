"""The Helm chart (deploy/helm/aegis), checked offline: no Kubernetes API server runs here, so the chart is
linted (helm lint --strict), rendered and validated against pinned schemas (kubeconform -strict), scored
(kube-score), and its rendered pod is read for what security depends on, in both of its modes: one
replica (a Deployment) and several (a StatefulSet sharing its state). One test runs the real OPA with the
rendered configuration and arguments against a bundle server.

The tools come from scripts/setup-deploy: helm, kubeconform and kube-score on PATH, and the schema
location and Kubernetes version from the environment (source .tools/deploy.env). Without them the tests
skip, or fail under AEGIS_REQUIRE_ALL=1."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from policy_compiler import build_bundle
from policy_compiler._signing import sign_bundle

from bench._processes import stop
from gateway.demo import EXAMPLE_POLICY
from tests.deploy.test_bundle_server import load_server
from tests.ports import free_port
from tests.processes import REPO_ROOT

pytestmark = pytest.mark.deploy

CHART = REPO_ROOT / "deploy" / "helm" / "aegis"
MINIMAL = CHART / "ci" / "minimal-values.yaml"  # the three choices the chart does not make
FULL = CHART / "ci" / "full-values.yaml"  # every option on: TLS, Redis, ServiceMonitor, ...
REPLICAS = CHART / "ci" / "replicas-values.yaml"  # three replicas: PostgreSQL, Redis, a StatefulSet
AUTOMATION = (
    CHART / "ci" / "automation-values.yaml"
)  # a webhook job and a scheduled one, the webhook's secret
RELEASE, NAMESPACE = "aegis", "aegis"
# kube-score checks the chart fails on purpose; the chart's README says why, under "kube-score".
KUBE_SCORE_IGNORED = ("container-image-pull-policy", "deployment-strategy", "deployment-replicas")
KUBE_SCORE_OPTIONAL = ("container-seccomp-profile", "container-ports-check")
# Kinds kubeconform has no schema for (CRDs): the Prometheus Operator's ServiceMonitor is skipped, and
# test_service_monitor_scrapes_the_service checks its shape instead.
KUBECONFORM_SKIPPED = ("ServiceMonitor",)
OPA_START_S = 20.0


@dataclasses.dataclass(frozen=True)
class Tools:
    helm: str
    kubeconform: str
    kube_score: str
    schema_location: str
    kubernetes_version: str


@pytest.fixture(scope="session")
def tools() -> Tools:
    """helm, kubeconform and kube-score from PATH, the schemas from the environment (.tools/deploy.env)."""
    found = {name: shutil.which(name) for name in ("helm", "kubeconform", "kube-score")}
    env = {name: os.environ.get(name) for name in ("AEGIS_KUBECONFORM_SCHEMA_LOCATION", "AEGIS_K8S_VERSION")}
    missing = [f"{name} on PATH" for name, path in found.items() if path is None]
    missing += [name for name, value in env.items() if not value]
    if missing:
        reason = f"missing {', '.join(missing)}: run scripts/setup-deploy, then source .tools/deploy.env"
        if os.environ.get("AEGIS_REQUIRE_ALL") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return Tools(
        helm=str(found["helm"]),
        kubeconform=str(found["kubeconform"]),
        kube_score=str(found["kube-score"]),
        schema_location=str(env["AEGIS_KUBECONFORM_SCHEMA_LOCATION"]),
        kubernetes_version=str(env["AEGIS_K8S_VERSION"]),
    )


def run(argv: Sequence[str], *, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=120, check=False)


def template(tools: Tools, *values: Path, sets: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    argv = [tools.helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for path in values:
        argv += ["--values", str(path)]
    for assignment in sets:
        argv += ["--set", assignment]
    return run(argv)


def rendered_text(tools: Tools, *values: Path, sets: Sequence[str] = ()) -> str:
    result = template(tools, *values, sets=sets)
    assert result.returncode == 0, result.stderr
    return result.stdout


@dataclasses.dataclass(frozen=True)
class Rendered:
    """The documents of one `helm template`, by kind."""

    docs: list[dict[str, Any]]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [doc for doc in self.docs if doc["kind"] == kind]

    def one(self, kind: str) -> dict[str, Any]:
        (doc,) = self.of(kind)
        return doc

    @property
    def workload(self) -> dict[str, Any]:
        """The gateway's Deployment (one replica) or StatefulSet (several): exactly one of them."""
        (doc,) = self.of("Deployment") + self.of("StatefulSet")
        return doc

    @property
    def pod(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.workload["spec"]["template"]["spec"]
        return spec

    @property
    def service(self) -> dict[str, Any]:
        """The Service clients use (with several replicas, the headless one is there too)."""
        (doc,) = [doc for doc in self.of("Service") if doc["metadata"]["name"] == RELEASE]
        return doc

    def container(self, name: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = [c for c in self.pod["containers"] if c["name"] == name]
        assert len(found) == 1, found
        return found[0]

    def env(self, container: str = "gateway") -> dict[str, str]:
        """Each variable's value; one taken from the pod's own fields (the downward API) reads
        `fieldRef:<path>`. Secrets go in as files, never as env: no secretKeyRef, no envFrom."""
        found = self.container(container)
        assert "envFrom" not in found
        values = {}
        for entry in found.get("env", []):
            if "valueFrom" in entry:
                assert set(entry["valueFrom"]) == {"fieldRef"}, f"secrets go in as files: {entry}"
                values[entry["name"]] = f"fieldRef:{entry['valueFrom']['fieldRef']['fieldPath']}"
            else:
                values[entry["name"]] = entry["value"]
        return values

    def volume(self, name: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = [v for v in self.pod["volumes"] if v["name"] == name]
        assert len(found) == 1, found
        return found[0]

    def mount(self, container: str, volume: str) -> dict[str, Any]:
        mounts = self.container(container)["volumeMounts"]
        found: list[dict[str, Any]] = [m for m in mounts if m["name"] == volume]
        assert len(found) == 1, found
        return found[0]


def render(tools: Tools, *values: Path, sets: Sequence[str] = ()) -> Rendered:
    docs = [doc for doc in yaml.safe_load_all(rendered_text(tools, *values, sets=sets)) if doc]
    return Rendered(docs)


VALUE_SETS = {
    "minimal": (MINIMAL,),
    "full": (FULL,),
    "replicas": (REPLICAS,),
    "automation": (AUTOMATION,),
    "replicas-automation": (REPLICAS, AUTOMATION),
}
SINGLE = ("minimal", "full", "automation")  # the value sets of one replica


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(request: pytest.FixtureRequest, tools: Tools) -> Rendered:
    return render(tools, *VALUE_SETS[request.param])


@pytest.fixture(scope="module")
def minimal(tools: Tools) -> Rendered:
    return render(tools, MINIMAL)


@pytest.fixture(scope="module", params=SINGLE)
def single(request: pytest.FixtureRequest, tools: Tools) -> Rendered:
    return render(tools, *VALUE_SETS[request.param])


@pytest.fixture(scope="module")
def full(tools: Tools) -> Rendered:
    return render(tools, FULL)


@pytest.fixture(scope="module")
def replicated(tools: Tools) -> Rendered:
    return render(tools, REPLICAS)


# --- the tools' verdicts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [(), (MINIMAL,), (FULL,), (REPLICAS,), (AUTOMATION,), (REPLICAS, AUTOMATION)],
    ids=["defaults", "minimal", "full", "replicas", "automation", "replicas-automation"],
)
def test_helm_lint_strict_passes(tools: Tools, values: tuple[Path, ...]) -> None:
    argv = [tools.helm, "lint", "--strict", str(CHART)]
    for path in values:
        argv += ["--values", str(path)]
    result = run(argv)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_rendered_manifests_pass_kubeconform_strict(tools: Tools, values: str) -> None:
    text = rendered_text(tools, *VALUE_SETS[values])
    kinds = [doc["kind"] for doc in yaml.safe_load_all(text) if doc]
    result = run(
        [
            tools.kubeconform,
            "-strict",
            "-summary",
            "-kubernetes-version",
            tools.kubernetes_version,
            "-schema-location",
            tools.schema_location,
            "-skip",
            ",".join(KUBECONFORM_SKIPPED),
            "-",
        ],
        stdin=text,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = sum(kind in KUBECONFORM_SKIPPED for kind in kinds)
    summary = f"Valid: {len(kinds) - skipped}, Invalid: 0, Errors: 0, Skipped: {skipped}"
    assert summary in result.stdout, result.stdout


def test_kubeconform_refuses_a_misspelt_field(tools: Tools) -> None:
    """The strict schemas are in use: a field the API does not have fails."""
    text = rendered_text(tools, MINIMAL).replace("readOnlyRootFilesystem:", "readOnlyRootFileSystem:", 1)
    result = run(
        [
            tools.kubeconform,
            "-strict",
            "-kubernetes-version",
            tools.kubernetes_version,
            "-schema-location",
            tools.schema_location,
            "-",
        ],
        stdin=text,
    )
    assert result.returncode != 0 and "readOnlyRootFileSystem" in result.stdout, result.stdout


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_kube_score_passes_with_only_the_documented_ignores(tools: Tools, values: str) -> None:
    argv = [tools.kube_score, "score", "--exit-one-on-warning", "--output-format", "ci"]
    for name in KUBE_SCORE_OPTIONAL:
        argv += ["--enable-optional-test", name]
    argv += ["--ignore-test", ",".join(KUBE_SCORE_IGNORED), "-"]
    result = run(argv, stdin=rendered_text(tools, *VALUE_SETS[values]))
    problems = [line for line in result.stdout.splitlines() if line.startswith(("[CRITICAL]", "[WARNING]"))]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


def test_every_kube_score_ignore_is_justified_in_the_readme() -> None:
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    section = readme.split("## kube-score", 1)[1].split("\n## ", 1)[0]
    for name in KUBE_SCORE_IGNORED:
        assert f"`{name}`" in section, f"README.md's kube-score section does not justify {name}"


# --- what rendering refuses ---------------------------------------------------------------------------


POSTGRES = ["state.postgres.urlSecret.name=aegis-postgres"]
REDIS = ["limits.backend=redis", "limits.redis.urlSecret.name=aegis-redis"]
STATE_KEY = ["secrets.requestStateKey.name=aegis-request-state"]


@pytest.mark.parametrize(
    ("sets", "missing", "not_missing"),
    [
        ([], ["state.postgres.urlSecret.name", "limits.backend: redis", "secrets.requestStateKey"], []),
        ([*REDIS, *STATE_KEY], ["state.postgres.urlSecret.name"], ["limits.", "requestStateKey"]),
        (
            [*POSTGRES, *STATE_KEY],
            ["limits.backend: redis and limits.redis.urlSecret.name"],
            ["state.postgres", "requestStateKey"],
        ),
        (
            [*POSTGRES, *STATE_KEY, "limits.backend=redis"],
            ["limits.redis.urlSecret.name"],
            ["state.postgres", "requestStateKey"],
        ),
        ([*POSTGRES, *REDIS], ["secrets.requestStateKey.name"], ["state.postgres", "limits."]),
    ],
    ids=["none", "no-postgres", "no-redis", "redis-without-its-secret", "no-request-state-key"],
)
@pytest.mark.parametrize("replicas", ["2", "5"])
def test_several_replicas_without_shared_state_fail_rendering(
    tools: Tools, replicas: str, sets: list[str], missing: list[str], not_missing: list[str]
) -> None:
    """One message, naming everything that is missing and nothing that is set."""
    result = template(tools, MINIMAL, sets=[f"replicas={replicas}", *sets])
    assert result.returncode != 0
    (message,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert f"replicas is {replicas}, and several gateways need shared state: set " in message
    for named in missing:
        assert named in message, message
    for named in not_missing:
        assert named not in message, message


def test_several_replicas_cannot_share_one_existing_claim(tools: Tools) -> None:
    result = template(tools, REPLICAS, sets=["persistence.existingClaim=aegis-audit"])
    assert result.returncode != 0
    assert "persistence.existingClaim names one claim, which replicas cannot share" in result.stderr
    assert "data-aegis-<ordinal>" in result.stderr


@pytest.mark.parametrize("name", ["a" * 53, "gw.one", "0-1"])
def test_several_replicas_need_a_name_that_can_name_their_pods(tools: Tools, name: str) -> None:
    """The pods' names are <fullname>-<ordinal>, and each is its replica's AEGIS_REPLICA_ID."""
    result = template(tools, REPLICAS, sets=[f"fullnameOverride={name}"])
    assert result.returncode != 0
    assert "must be a DNS label (a-z, 0-9, -) with a letter, of at most 52 characters" in result.stderr
    assert template(tools, REPLICAS, sets=["fullnameOverride=" + "a" * 52]).returncode == 0


def test_the_operator_must_choose_tls_or_plain_http(tools: Tools) -> None:
    unchosen = template(tools)
    assert unchosen.returncode != 0
    for named in ("gitea.url", "bundles.url", "tls.secretName", "insecurePlainHttp: true"):
        assert named in unchosen.stderr
    both = template(tools, MINIMAL, sets=["tls.secretName=aegis-tls"])
    assert both.returncode != 0 and "not both" in both.stderr


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["extraEnv[0].name=AEGIS_ALLOW_INSECURE_BIND", "extraEnv[0].value=true"], "extraEnv sets"),
        (["extraEnv[0].name=AEGIS_GITEA_TOKEN", "extraEnv[0].value=x"], "extraEnv sets"),
        (["limits.backend=redis"], "limits.redis.urlSecret.name"),
        (["bundles.signing.keyId=a.b"], "bundles.signing.keyId"),
        (["networkPolicy.client=x"], "additional properties 'client' not allowed"),
    ],
)
def test_unsafe_or_mistyped_values_fail_rendering(tools: Tools, sets: list[str], message: str) -> None:
    result = template(tools, MINIMAL, sets=sets)
    assert result.returncode != 0 and message in result.stderr, result.stderr


# --- the pod -----------------------------------------------------------------------------------------


def test_every_container_is_locked_down(rendered: Rendered) -> None:
    pod = rendered.pod
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "hostNetwork" not in pod and "hostPID" not in pod and "hostIPC" not in pod
    containers = pod["containers"] + pod.get("initContainers", [])
    assert {c["name"] for c in containers} == {"gateway", "opa"}
    for container in containers:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["runAsNonRoot"] is True, container["name"]
        assert context["runAsUser"] > 10000 and context["runAsGroup"] > 10000, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["privileged"] is False, container["name"]
        assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, container["name"]
        resources = container["resources"]
        for kind in ("cpu", "memory", "ephemeral-storage"):
            assert kind in resources["requests"] and kind in resources["limits"], (container["name"], kind)
    (account,) = rendered.of("ServiceAccount")
    assert account["automountServiceAccountToken"] is False


def test_one_replica_replaced_with_recreate(single: Rendered) -> None:
    spec = single.one("Deployment")["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    assert not single.of("StatefulSet")
    assert [service["metadata"]["name"] for service in single.of("Service")] == [RELEASE]
    assert "AEGIS_REPLICA_ID" not in single.env()
    assert "affinity" not in single.pod, "one replica has no anti-affinity"


def test_opa_serves_its_policy_api_on_the_pod_loopback_only(rendered: Rendered) -> None:
    args = rendered.container("opa")["args"]
    assert args[:2] == ["run", "--server"]
    addresses = [arg for arg in args if arg.startswith(("--addr", "-a"))]
    assert addresses == ["--addr=127.0.0.1:8181"]
    assert "--diagnostic-addr=:8282" in args
    assert rendered.env()["AEGIS_OPA_URL"] == "http://127.0.0.1:8181"
    ports = [port["containerPort"] for port in rendered.container("opa")["ports"]]
    assert ports == [8282], "only the diagnostic port is declared"


def test_probes(rendered: Rendered) -> None:
    gateway, opa = rendered.container("gateway"), rendered.container("opa")
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert gateway["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert opa["readinessProbe"]["httpGet"] == {"path": "/health?bundles", "port": "opa-diag"}
    assert opa["livenessProbe"]["httpGet"] == {"path": "/health", "port": "opa-diag"}
    scheme = "HTTPS" if "AEGIS_TLS_CERT" in rendered.env() else "HTTP"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert gateway[probe]["httpGet"]["scheme"] == scheme


def test_writable_paths_are_volumes(minimal: Rendered, tools: Tools) -> None:
    assert minimal.volume("data")["persistentVolumeClaim"]["claimName"] == "aegis-data"
    claim = minimal.one("PersistentVolumeClaim")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    tmp = minimal.volume("tmp")["emptyDir"]
    assert tmp["medium"] == "Memory" and tmp["sizeLimit"]
    assert minimal.mount("gateway", "data")["mountPath"] == "/data"
    assert minimal.mount("gateway", "tmp")["mountPath"] == "/tmp"
    assert minimal.env()["AEGIS_AUDIT_LOG"] == "/data/audit.jsonl"
    assert minimal.env()["AEGIS_STATE_DB"] == "/data/state.db"
    scratch = render(tools, MINIMAL, sets=["persistence.enabled=false"])
    assert scratch.volume("data") == {"name": "data", "emptyDir": {}}
    assert not scratch.of("PersistentVolumeClaim")


def test_secrets_are_mounted_files_named_by_the_file_settings(full: Rendered, minimal: Rendered) -> None:
    env = full.env()
    secrets_dir = full.mount("gateway", "gateway-secrets")
    assert secrets_dir["readOnly"] is True
    base = secrets_dir["mountPath"]
    mounted = {
        f"{base}/{item['path']}": source["secret"]["name"]
        for source in full.volume("gateway-secrets")["projected"]["sources"]
        for item in source["secret"]["items"]
    }
    for setting, secret in {
        "AEGIS_GITEA_TOKEN_FILE": "gitea-bot-token",
        "AEGIS_KEYS_FILE": "aegis-keys",
        "AEGIS_ADMIN_KEY_FILE": "aegis-admin",
        "AEGIS_REDIS_URL_FILE": "aegis-redis",
        "AEGIS_AUDIT_SIGNING_KEY": "aegis-audit-signing",
        "AEGIS_TLS_CERT": "aegis-tls",
        "AEGIS_TLS_KEY": "aegis-tls",
    }.items():
        assert mounted[env[setting]] == secret, setting
    for plain in ("AEGIS_GITEA_TOKEN", "AEGIS_REDIS_URL", "AEGIS_ADMIN_KEY", "AEGIS_ALLOW_INSECURE_BIND"):
        assert plain not in env
    # The gateway's secrets are not in OPA's container, and OPA's key is not in the gateway's.
    assert {m["name"] for m in full.container("opa")["volumeMounts"]} == {
        "opa-config",
        "opa-key",
        "opa-persistence",
    }
    assert "opa-key" not in {m["name"] for m in full.container("gateway")["volumeMounts"]}
    # The minimal render: the default Secret names, no optional ones.
    names = [s["secret"]["name"] for s in minimal.volume("gateway-secrets")["projected"]["sources"]]
    assert names == ["aegis-gitea-token", "aegis-api-keys"]
    assert minimal.volume("opa-key")["secret"]["secretName"] == "aegis-bundle-verification-key"


def test_plain_http_only_when_chosen(minimal: Rendered, full: Rendered) -> None:
    assert minimal.env()["AEGIS_ALLOW_INSECURE_BIND"] == "true"
    assert "AEGIS_TLS_CERT" not in minimal.env()
    assert full.env()["AEGIS_TLS_CERT"].endswith("/tls.crt")
    assert "AEGIS_ALLOW_INSECURE_BIND" not in full.env()


def test_allowed_hosts_name_the_service(rendered: Rendered) -> None:
    service = rendered.service["metadata"]["name"]
    hosts = rendered.env()["AEGIS_ALLOWED_HOSTS"].split(",")
    for name in (service, f"{service}.{NAMESPACE}.svc", f"{service}.{NAMESPACE}.svc.cluster.local"):
        assert name in hosts


def test_the_gateway_gets_no_bundle_verification_key(rendered: Rendered) -> None:
    """In sidecar mode the signature is OPA's to verify; the gateway would ignore the setting."""
    env = rendered.env()
    assert "AEGIS_BUNDLE_VERIFICATION_KEY" not in env and "AEGIS_POLICY" not in env


def opa_config(rendered: Rendered) -> dict[str, Any]:
    (config_map,) = [doc for doc in rendered.of("ConfigMap") if doc["metadata"]["name"].endswith("-opa")]
    config: dict[str, Any] = yaml.safe_load(config_map["data"]["config.yaml"])
    return config


def test_opa_loads_only_signed_bundles_and_persists_them(rendered: Rendered) -> None:
    config = opa_config(rendered)
    (bundle,) = config["bundles"].values()
    key_id = bundle["signing"]["keyid"]
    assert bundle["persist"] is True
    assert set(bundle["polling"]) == {"min_delay_seconds", "max_delay_seconds"}
    assert bundle["service"] in config["services"]
    assert set(config["keys"][key_id]) == {"algorithm"}, "the key comes from the Secret, not the ConfigMap"
    args = rendered.container("opa")["args"]
    key_path = rendered.mount("opa", "opa-key")["mountPath"] + "/bundle-verification-key"
    assert f"--set-file=keys.{key_id}.key={key_path}" in args
    persistence = rendered.mount("opa", "opa-persistence")["mountPath"]
    assert config["persistence_directory"] == persistence
    assert "emptyDir" in rendered.volume("opa-persistence")


def test_opas_decision_log_is_off_unless_asked_for_and_then_masked(minimal: Rendered, full: Rendered) -> None:
    assert "decision_logs" not in opa_config(minimal)
    assert opa_config(full)["decision_logs"] == {"console": True, "mask_decision": "/system/log/mask"}


# --- the other resources -------------------------------------------------------------------------------


def rule_ports(rule: Mapping[str, Any]) -> set[object]:
    return {port["port"] for port in rule["ports"]}


def test_network_policy(minimal: Rendered, full: Rendered, replicated: Rendered) -> None:
    for rendered in (minimal, full, replicated):
        policy = rendered.one("NetworkPolicy")["spec"]
        assert policy["policyTypes"] == ["Ingress", "Egress"]
        assert policy["podSelector"]["matchLabels"] == rendered.workload["spec"]["selector"]["matchLabels"]
        for rule in policy["ingress"]:
            assert rule["from"], "an ingress rule names its peers"
            assert rule_ports(rule) <= {"http", "opa-diag"}
        for rule in policy["egress"]:
            assert rule["ports"], "no egress rule allows every port"
    ingress = minimal.one("NetworkPolicy")["spec"]["ingress"]
    assert [rule_ports(rule) for rule in ingress] == [{"http"}]
    egress = [rule_ports(rule) for rule in minimal.one("NetworkPolicy")["spec"]["egress"]]
    assert egress == [{53}, {443}, {8888}]  # DNS, Gitea (https), the bundle service
    full_policy = full.one("NetworkPolicy")["spec"]
    assert [rule_ports(rule) for rule in full_policy["ingress"]] == [{"http"}, {"http", "opa-diag"}]
    egress = [rule_ports(rule) for rule in full_policy["egress"]]
    assert egress[:4] == [{53}, {3000}, {443}, {6380}]  # DNS, Gitea :3000, bundles (https), Redis
    assert all(rule["to"] for rule in full_policy["egress"])
    # Several replicas: Redis and PostgreSQL too, each to its named peers.
    replicated_policy = replicated.one("NetworkPolicy")["spec"]
    egress = [rule_ports(rule) for rule in replicated_policy["egress"]]
    assert egress == [{53}, {443}, {8888}, {6379}, {5432}]
    assert all(rule.get("to") for rule in replicated_policy["egress"][3:])


def test_service_and_disruption_budget(rendered: Rendered) -> None:
    service = rendered.service["spec"]
    selector = rendered.workload["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= selector.items()
    assert service["ports"][0] == {
        "name": "http",
        "port": 8080,
        "targetPort": "http",
        "protocol": "TCP",
        "appProtocol": "https" if "AEGIS_TLS_CERT" in rendered.env() else "http",
    }
    budget = rendered.one("PodDisruptionBudget")["spec"]
    assert budget["selector"]["matchLabels"].items() <= selector.items()
    assert "maxUnavailable" in budget


def test_service_monitor_scrapes_the_service(minimal: Rendered, full: Rendered) -> None:
    assert not minimal.of("ServiceMonitor"), "off by default"
    monitor = full.one("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    service = full.service
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    port_names = {port["name"] for port in service["spec"]["ports"]}
    endpoints = {endpoint["port"]: endpoint for endpoint in monitor["spec"]["endpoints"]}
    assert set(endpoints) == {"http", "opa-diag"} and set(endpoints) <= port_names
    assert endpoints["http"]["scheme"] == "https" and endpoints["http"]["tlsConfig"]["serverName"]
    assert all(endpoint["path"] == "/metrics" for endpoint in endpoints.values())


# --- several replicas ----------------------------------------------------------------------------------


def mounted_secrets(rendered: Rendered) -> dict[str, tuple[str, str]]:
    """The gateway's secret files: path -> (Secret, key)."""
    base = rendered.mount("gateway", "gateway-secrets")["mountPath"]
    return {
        f"{base}/{item['path']}": (source["secret"]["name"], item["key"])
        for source in rendered.volume("gateway-secrets")["projected"]["sources"]
        for item in source["secret"]["items"]
    }


def test_several_replicas_run_as_a_stateful_set(replicated: Rendered) -> None:
    assert not replicated.of("Deployment") and not replicated.of("PersistentVolumeClaim")
    spec = replicated.one("StatefulSet")["spec"]
    assert spec["replicas"] == 3
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["updateStrategy"] == {"type": "RollingUpdate"}
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    # The governing Service is headless and has no ports: clients (and a ServiceMonitor) use the other.
    (headless,) = [doc for doc in replicated.of("Service") if doc["metadata"]["name"] == spec["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["selector"] == spec["selector"]["matchLabels"]
    assert "ports" not in headless["spec"]
    assert spec["serviceName"] != replicated.service["metadata"]["name"]
    assert replicated.service["spec"].get("clusterIP") != "None"


@pytest.mark.parametrize("replicas", [2, 7])
def test_the_stateful_set_has_the_replicas_asked_for(tools: Tools, replicas: int) -> None:
    rendered = render(tools, REPLICAS, sets=[f"replicas={replicas}"])
    assert rendered.one("StatefulSet")["spec"]["replicas"] == replicas


def test_each_replica_writes_an_audit_chain_named_after_its_pod(replicated: Rendered) -> None:
    (entry,) = [e for e in replicated.container("gateway")["env"] if e["name"] == "AEGIS_REPLICA_ID"]
    assert entry["valueFrom"] == {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}
    # The gateway names the file audit.<replica>.jsonl itself, from AEGIS_AUDIT_LOG and the replica id.
    assert replicated.env()["AEGIS_AUDIT_LOG"] == "/data/audit.jsonl"


def test_each_replica_has_a_claim_of_its_own_for_data(replicated: Rendered, tools: Tools) -> None:
    spec = replicated.one("StatefulSet")["spec"]
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"] == {"requests": {"storage": "10Gi"}}
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    assert claim["metadata"]["annotations"] == {"example.com/backup": "audit"}
    # Only the labels that never change: a StatefulSet's claim templates cannot be updated.
    assert claim["metadata"]["labels"] == spec["selector"]["matchLabels"]
    assert replicated.mount("gateway", "data")["mountPath"] == "/data"
    assert "data" not in {volume["name"] for volume in replicated.pod["volumes"]}, "no volume shared by all"
    # Audit chains are evidence: a scale-down keeps its claims, and so does deleting the StatefulSet.
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    scratch = render(tools, REPLICAS, sets=["persistence.enabled=false", "persistence.keepOnUninstall=false"])
    scratch_spec = scratch.one("StatefulSet")["spec"]
    assert "volumeClaimTemplates" not in scratch_spec
    assert scratch.volume("data") == {"name": "data", "emptyDir": {}}
    assert scratch_spec["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete"


def test_the_state_is_in_postgresql_named_by_a_mounted_file(replicated: Rendered, tools: Tools) -> None:
    """With several replicas, and with one when state.postgres is set: AEGIS_STATE_URL_FILE names the
    Secret's file, and no SQLite file is configured beside it."""
    single = render(tools, MINIMAL, sets=POSTGRES)
    assert single.of("Deployment") and not single.of("StatefulSet")
    assert "AEGIS_REPLICA_ID" not in single.env()
    for rendered, secret in ((replicated, "aegis-postgres"), (single, "aegis-postgres")):
        env = rendered.env()
        assert mounted_secrets(rendered)[env["AEGIS_STATE_URL_FILE"]] == (secret, "url")
        assert "AEGIS_STATE_DB" not in env and "AEGIS_STATE_URL" not in env
    egress = [rule_ports(rule) for rule in single.one("NetworkPolicy")["spec"]["egress"]]
    assert egress == [{53}, {443}, {8888}, {5432}]
    # The rate limits are shared too, in Redis, and the key that seals held calls' requestState.
    env = replicated.env()
    assert env["AEGIS_LIMITS_BACKEND"] == "redis"
    assert mounted_secrets(replicated)[env["AEGIS_REDIS_URL_FILE"]] == ("aegis-redis", "url")
    assert mounted_secrets(replicated)[env["AEGIS_REQUEST_STATE_KEY_FILE"]] == ("aegis-request-state", "key")
    assert "AEGIS_REQUEST_STATE_KEY_FILE" not in single.env()


def test_replicas_are_evicted_one_at_a_time(replicated: Rendered) -> None:
    budget = replicated.one("PodDisruptionBudget")["spec"]
    assert budget["maxUnavailable"] == 1 and "minAvailable" not in budget
    assert budget["selector"] == replicated.one("StatefulSet")["spec"]["selector"]


def test_replicas_prefer_nodes_of_their_own(replicated: Rendered, tools: Tools, tmp_path: Path) -> None:
    selector = replicated.one("StatefulSet")["spec"]["selector"]["matchLabels"]
    anti_affinity = replicated.pod["affinity"]["podAntiAffinity"]
    (preferred,) = anti_affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred["weight"] == 100
    assert preferred["podAffinityTerm"] == {
        "topologyKey": "kubernetes.io/hostname",
        "labelSelector": {"matchLabels": selector},
    }
    required = render(tools, REPLICAS, sets=["podAntiAffinity=required"]).pod["affinity"]
    assert required["podAntiAffinity"] == {
        "requiredDuringSchedulingIgnoredDuringExecution": [preferred["podAffinityTerm"]]
    }
    assert "affinity" not in render(tools, REPLICAS, sets=["podAntiAffinity=none"]).pod
    # The operator's affinity: the default anti-affinity is added to it, unless it has its own.
    in_pool = {"key": "pool", "operator": "In", "values": ["aegis"]}
    node_affinity = {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [in_pool]}]
        }
    }
    own_anti = {"preferredDuringSchedulingIgnoredDuringExecution": [{**preferred, "weight": 5}]}
    (tmp_path / "node.yaml").write_text(yaml.safe_dump({"affinity": {"nodeAffinity": node_affinity}}))
    (tmp_path / "anti.yaml").write_text(yaml.safe_dump({"affinity": {"podAntiAffinity": own_anti}}))
    merged = render(tools, REPLICAS, tmp_path / "node.yaml").pod["affinity"]
    assert merged == {"nodeAffinity": node_affinity, **replicated.pod["affinity"]}
    assert render(tools, REPLICAS, tmp_path / "anti.yaml").pod["affinity"] == {"podAntiAffinity": own_anti}


# --- automation ----------------------------------------------------------------------------------------


AUTOMATION_ENV = (
    "AEGIS_JOBS",
    "AEGIS_WEBHOOK_SECRET",
    "AEGIS_WEBHOOK_SECRET_FILE",
    "AEGIS_SCHEDULER",
    "AEGIS_AUTOMATION_QUEUE",
    "AEGIS_AUTOMATION_WORKERS",
)


@pytest.fixture(scope="module")
def automation(tools: Tools) -> Rendered:
    return render(tools, AUTOMATION)


def automation_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(AUTOMATION.read_text(encoding="utf-8"))["automation"]
    return values


def jobs_config_map(rendered: Rendered) -> dict[str, Any]:
    (found,) = [doc for doc in rendered.of("ConfigMap") if doc["metadata"]["name"] == f"{RELEASE}-automation"]
    return found


def values_file(tmp_path: Path, name: str, values: Mapping[str, Any]) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(dict(values)), encoding="utf-8")
    return path


@pytest.mark.parametrize("values", ["minimal", "full", "replicas"])
def test_automation_is_off_without_jobs(tools: Tools, values: str) -> None:
    """Without automation.jobs: no jobs ConfigMap, volume, mount, annotation or setting."""
    rendered = render(tools, *VALUE_SETS[values])
    assert not [doc for doc in rendered.of("ConfigMap") if doc["metadata"]["name"].endswith("-automation")]
    assert not set(AUTOMATION_ENV) & set(rendered.env())
    assert "automation-jobs" not in {volume["name"] for volume in rendered.pod["volumes"]}
    assert "automation-jobs" not in {m["name"] for m in rendered.container("gateway")["volumeMounts"]}
    annotations = rendered.workload["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/automation-jobs" not in annotations


def test_the_jobs_file_is_a_read_only_config_map_the_gateway_loads(automation: Rendered) -> None:
    """The text arrives verbatim (the gateway's file:line:column errors point at the operator's own
    lines), in the gateway's container only, read-only, and the gateway's own loader accepts it."""
    from gateway.automation import load_jobs
    from gateway.tools import default_registry

    config_map = jobs_config_map(automation)
    env = automation.env()
    mount = automation.mount("gateway", "automation-jobs")
    assert mount["readOnly"] is True
    assert env["AEGIS_JOBS"].startswith(mount["mountPath"] + "/")
    (key,) = config_map["data"]
    assert env["AEGIS_JOBS"] == f"{mount['mountPath']}/{key}"
    text = config_map["data"][key]
    assert text == automation_values()["jobs"]
    volume = automation.volume("automation-jobs")["configMap"]
    assert volume["name"] == config_map["metadata"]["name"] and volume["defaultMode"] == 0o444
    assert "automation-jobs" not in {m["name"] for m in automation.container("opa")["volumeMounts"]}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / key
        path.write_text(text, encoding="utf-8")
        jobs = load_jobs(path, known_tools={bound.tool.name for bound in default_registry()})
    assert [job.name for job in jobs] == ["label-docs", "nightly-open-issues"]


def test_a_changed_jobs_file_rolls_the_pods(automation: Rendered, tools: Tools, tmp_path: Path) -> None:
    """The gateway reads the jobs at start only: the pod template carries the file's checksum."""
    values = automation_values()
    changed = values_file(tmp_path, "changed", {"automation": {"jobs": values["jobs"] + "# changed\n"}})
    before = automation.workload["spec"]["template"]["metadata"]["annotations"]
    after = render(tools, AUTOMATION, changed).workload["spec"]["template"]["metadata"]["annotations"]
    assert re.fullmatch("[0-9a-f]{64}", before["checksum/automation-jobs"])
    assert after["checksum/automation-jobs"] != before["checksum/automation-jobs"]
    assert after["checksum/opa-config"] == before["checksum/opa-config"]


def test_the_webhook_secret_is_a_mounted_file(automation: Rendered) -> None:
    env = automation.env()
    assert mounted_secrets(automation)[env["AEGIS_WEBHOOK_SECRET_FILE"]] == ("aegis-gitea-webhook", "secret")
    assert "AEGIS_WEBHOOK_SECRET" not in env
    assert automation.mount("gateway", "gateway-secrets")["readOnly"] is True


BOUNDS = {"AEGIS_AUTOMATION_QUEUE": "50", "AEGIS_AUTOMATION_WORKERS": "2"}


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        ([], BOUNDS),
        (["automation.scheduler=true"], {"AEGIS_SCHEDULER": "true", **BOUNDS}),
        (["automation.scheduler=false"], {"AEGIS_SCHEDULER": "false", **BOUNDS}),
        (["automation.queue=null", "automation.workers=null"], {}),
    ],
    ids=["bounds", "scheduler-on", "scheduler-off", "gateway-defaults"],
)
def test_scheduler_and_worker_settings(tools: Tools, sets: list[str], expected: dict[str, str]) -> None:
    """Each is set only when given: null leaves the gateway's default (the scheduler on when a job has a
    schedule; a queue of 100, 4 workers)."""
    env = render(tools, AUTOMATION, sets=sets).env()
    names = ("AEGIS_SCHEDULER", "AEGIS_AUTOMATION_QUEUE", "AEGIS_AUTOMATION_WORKERS")
    assert {name: env[name] for name in names if name in env} == expected


WEBHOOK_SECRET_MISSING = "which need automation.webhookSecret.secretName"


def test_webhook_jobs_without_a_webhook_secret_fail_rendering(tools: Tools, tmp_path: Path) -> None:
    """The gateway would refuse to start: rendering refuses first, naming the webhook jobs only."""
    no_secret = values_file(tmp_path, "no-secret", {"automation": {"webhookSecret": {"secretName": ""}}})
    result = template(tools, AUTOMATION, no_secret)
    assert result.returncode != 0
    (message,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert f"(label-docs), {WEBHOOK_SECRET_MISSING}" in message, message
    assert "nightly-open-issues" not in message and "refuses to start without it too" in message
    # Scheduled jobs alone need no secret, and get no receiver.
    jobs = yaml.safe_load(automation_values()["jobs"])
    del jobs["jobs"]["label-docs"]
    scheduled = values_file(tmp_path, "scheduled", {"automation": {"jobs": yaml.safe_dump(jobs)}})
    env = render(tools, AUTOMATION, no_secret, scheduled).env()
    assert "AEGIS_JOBS" in env and "AEGIS_WEBHOOK_SECRET_FILE" not in env


def test_text_that_is_not_a_jobs_map_falls_back_to_a_plain_search(tools: Tools, tmp_path: Path) -> None:
    """Text Helm cannot read as a jobs map is left to the gateway to refuse, but a `webhook:` in it
    still needs the secret."""
    broken = "version: 1\njobs:\n  a: {trigger: {webhook: {events: [issues]}}\n"  # an unclosed brace
    hooked = values_file(
        tmp_path, "hooked", {"automation": {"jobs": broken, "webhookSecret": {"secretName": ""}}}
    )
    result = template(tools, MINIMAL, hooked)
    assert result.returncode != 0 and WEBHOOK_SECRET_MISSING in result.stderr, result.stderr
    plain = values_file(tmp_path, "plain", {"automation": {"jobs": "version: [1\n"}})
    assert template(tools, MINIMAL, plain).returncode == 0


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["automation.scheduler=maybe"], "/automation/scheduler"),
        (["automation.workers=0"], "/automation/workers"),
        (["automation.queue=-1"], "/automation/queue"),
        (["automation.job=x"], "additional properties 'job' not allowed"),
        (["automation.webhookSecret.key="], "/automation/webhookSecret/key"),
        (["extraEnv[0].name=AEGIS_JOBS", "extraEnv[0].value=/tmp/jobs.yaml"], "extraEnv sets AEGIS_JOBS"),
        (
            ["extraEnv[0].name=AEGIS_WEBHOOK_SECRET", "extraEnv[0].value=x"],
            "extraEnv sets AEGIS_WEBHOOK_SECRET",
        ),
    ],
)
def test_mistyped_automation_values_fail_rendering(tools: Tools, sets: list[str], message: str) -> None:
    result = template(tools, AUTOMATION, sets=sets)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_the_network_policy_admits_gitea_to_the_gateway_port(
    automation: Rendered, minimal: Rendered, full: Rendered
) -> None:
    """networkPolicy.webhooks: Gitea's deliveries reach port 8080 (a NetworkPolicy cannot narrow it to
    /hooks/gitea); nothing more is opened, and nothing without it."""
    ingress = automation.one("NetworkPolicy")["spec"]["ingress"]
    assert [rule_ports(rule) for rule in ingress] == [{"http"}, {"http"}]
    assert ingress[1]["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gitea"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "gitea"}},
        }
    ]
    for rendered in (minimal, full):  # their rules are the clients' and the scrapers' (test_network_policy)
        assert len(rendered.one("NetworkPolicy")["spec"]["ingress"]) == (2 if rendered is full else 1)


def test_automation_with_several_replicas_shares_its_state(tools: Tools) -> None:
    """Scheduled slots' leases and the webhook replay memory are in the state database: the replicas
    get PostgreSQL (required with several) and every pod the same jobs and secret."""
    rendered = render(tools, REPLICAS, AUTOMATION)
    assert rendered.one("StatefulSet")["spec"]["replicas"] == 3
    env = rendered.env()
    assert mounted_secrets(rendered)[env["AEGIS_STATE_URL_FILE"]] == ("aegis-postgres", "url")
    assert mounted_secrets(rendered)[env["AEGIS_WEBHOOK_SECRET_FILE"]] == ("aegis-gitea-webhook", "secret")
    assert env["AEGIS_JOBS"].endswith("/jobs.yaml") and "AEGIS_SCHEDULER" not in env


# --- the real OPA with the rendered configuration -----------------------------------------------------


@contextlib.contextmanager
def bundle_server(root: Path) -> Iterator[str]:
    module = load_server()
    handler = type("Handler", (module.BundleHandler,), {"root": root.resolve(), "log_message": _quiet})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _quiet(*_: object) -> None:
    """No access log lines from the bundle server in the test output."""


def local_opa_argv(opa: str, rendered: Rendered, tmp: Path, api_port: int, diag_port: int) -> list[str]:
    """The rendered OPA container's command with its paths moved under `tmp` and its ports made free
    ones; the addresses keep their shape (the API on loopback)."""
    config = opa_config(rendered)
    config["persistence_directory"] = str(tmp / "persistence")
    (tmp / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    key_mount = rendered.mount("opa", "opa-key")["mountPath"]
    argv = [opa]
    for arg in rendered.container("opa")["args"]:
        arg = arg.replace("--addr=127.0.0.1:8181", f"--addr=127.0.0.1:{api_port}")
        arg = arg.replace("--diagnostic-addr=:8282", f"--diagnostic-addr=127.0.0.1:{diag_port}")
        arg = re.sub(r"^--config-file=.*", f"--config-file={tmp / 'config.yaml'}", arg)
        argv.append(arg.replace(key_mount, str(tmp / "keys")))
    return argv


def health(url: str, *, until: int, timeout_s: float = OPA_START_S) -> int:
    """Poll `url` until it answers `until`, or the time is up; the last status (0: no answer)."""
    deadline = time.monotonic() + timeout_s
    status = 0
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            status = httpx.get(url, timeout=2).status_code
            if status == until:
                break
        time.sleep(0.2)
    return status


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_opa_with_the_rendered_configuration_activates_only_a_signed_bundle(
    tools: Tools, opa_bin: str, tmp_path: Path, signed: bool
) -> None:
    """The real OPA, given the chart's configuration and arguments, loads the signed bundle from the
    bundle service and answers on its diagnostic address with health only; an unsigned one never
    activates, so OPA's readiness (and with it the gateway's) stays false."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "bundle-verification-key").write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "signing.pem").write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    served = tmp_path / "served"
    served.mkdir()
    bundle = build_bundle(EXAMPLE_POLICY, served / "aegis.tar.gz").path
    if signed:
        sign_bundle(bundle, signing_key=tmp_path / "signing.pem")
    api, diag = free_port(), free_port()
    with bundle_server(served) as url:
        rendered = render(tools, MINIMAL, sets=[f"bundles.url={url}"])
        argv = local_opa_argv(opa_bin, rendered, tmp_path, api, diag)
        with (tmp_path / "opa.log").open("wb") as log:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            assert health(f"http://127.0.0.1:{diag}/health", until=200) == 200
            if signed:
                assert health(f"http://127.0.0.1:{diag}/health?bundles", until=200) == 200
                valid = httpx.post(
                    f"http://127.0.0.1:{api}/v1/data/aegis/authz/policy_valid", json={"input": {}}
                )
                assert valid.json()["result"] is True
                assert (tmp_path / "persistence" / "bundles" / "aegis" / "bundle.tar.gz").is_file()
            else:
                assert health(f"http://127.0.0.1:{diag}/health?bundles", until=200, timeout_s=3) == 500
                assert "missing .signatures.json" in (tmp_path / "opa.log").read_text()
            # The diagnostic address serves health and metrics, never the policy or data API.
            assert httpx.get(f"http://127.0.0.1:{diag}/v1/data").status_code == 404
            assert httpx.get(f"http://127.0.0.1:{diag}/metrics").status_code == 200
        finally:
            stop(process)
