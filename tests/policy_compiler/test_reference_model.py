"""Property test: the compiled policy, evaluated by the real OPA, decides exactly as a reference
model of docs/policy.md written here in plain Python.

Hypothesis generates policies as YAML text (defaults, global and repository tool lists, exact and
glob repository keys, path globs (repository-wide, per role, per principal), size limits, the write
whitelist and branches, roles, principals with time windows and repository scopes, secrets
settings, and legacy-format files) and, for each, a batch of decision inputs, whose paths are
often secret stores. Each policy is compiled with `build_bundle` and its batch evaluated by one
`opa eval`. The model shares no code with the compiler: globs are matched with `fnmatch` after
expanding `**` segments, times are read with `datetime`, and the secret-store list is copied from
docs/policy.md.

Allowed writes are rare among those inputs, so a second generator makes policies and calls where
they are common, with require_approval lists, to check the obligation that holds them for approval;
calls that pass a role's or a principal's path allowlist are rare too, so a third makes those; and a
fourth makes calls of automation jobs (principals `automation:<job>`, with roles, time windows,
repository scopes and path rules of their own) that pass and fail the automation gate, among calls
of keys that it must leave alone.
"""

from __future__ import annotations

import datetime
import fnmatch
import itertools
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_compiler import build_bundle

from tests.policy_compiler.opa_run import opa_eval

CASES_PER_POLICY = 25
POLICIES = 100
MIN_CASES = 2000
# Each of these must be decided at least MIN_SEEN times, or the generator misses the secrets rules.
SECRETS_SITUATIONS = ("deny builtin.secret_store_paths", "allow secrets.store_paths", "obligation block")
MIN_SEEN = 20

TOOLS = {
    "get_file_contents": "read",
    "list_commits": "read",
    "create_file": "write",
    "run_job": "automation",
    "shell": "admin",  # an unknown capability
}
CAPABILITIES = ("read", "write", "automation")
REPOS = ["acme/app", "acme/lib", "beta/app", "beta/docs", "gamma/x"]
REPO_KEYS = ["acme/app", "acme/lib", "beta/docs", "acme/*", "*/app", "*/docs", "beta/?pp", "*/*"]
EXACT_KEYS = [key for key in REPO_KEYS if "*" not in key and "?" not in key]
PATHS = [
    "src/a.py",
    "src/secrets/k.pem",
    "README.md",
    "docs/x.md",
    ".env",
    "a/.env",
    ".env.example",
    "src/.env.local",
    "deploy/id_rsa.pub",
    "deploy/ID_RSA",
    "src/.ssh/config",
    "config/secrets.yml",
    "src/prod.env",
]
PATH_GLOBS = ["src/**", "src/secrets/*", "*.md", "**/.env", "README.md", "docs/**", "src/*", "**"]
BRANCHES = ["main", "feature/x", "aegis/a/b", "release"]
BRANCH_GLOBS = ["main", "feature/*", "aegis/**"]
LIMITS = [100, 5000, 50000]
SIZES = [0, 100, 101, 5000, 100000]
PRINCIPALS = ["bot-a", "bot-b"]
CALLERS = [*PRINCIPALS, "bot-c"]  # bot-c is never listed
# Automation jobs: the first two may be listed under principals, the third never is.
JOBS = ["automation:nightly", "automation:triage"]
JOB_CALLERS = [*JOBS, "automation:adhoc"]
ROLES = ["r1", "r2"]
WINDOW = ["2026-01-01T00:00:00Z", "2026-06-01T00:00:00+02:00", "2027-01-01T00:00:00Z"]
TIMES = [
    "2025-12-31T23:59:59Z",
    "2026-01-01T00:00:00Z",
    "2026-05-31T22:00:00Z",
    "2026-06-01T00:00:00Z",
    "2026-12-31T23:59:59.5Z",
    "2027-01-01T00:00:00Z",
    "2027-01-01T00:30:00+01:00",
    "soon",  # unreadable
]
SCOPES = ["tools:read", "tools:write", "tools:automation"]
OUTPUTS = ["mask", "block"]

# docs/policy.md, "Secret-store paths": each glob with the globs it excepts, matched against the
# lower-cased path.
ENV_TEMPLATES = ("**/.env.example", "**/.env.sample", "**/.env.template", "**/.env.dist")
SECRET_STORES: list[tuple[str, tuple[str, ...]]] = [
    ("**/.env", ()),
    ("**/.env.*", ENV_TEMPLATES),
    *[
        (f"**/{name}", ())
        for name in (
            "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.ppk",
            "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk",
            ".ssh/**", ".gnupg/**", ".netrc", "_netrc", ".git-credentials", ".htpasswd", ".pgpass",
            ".aws/credentials", ".docker/config.json", ".dockercfg", ".kube/config", ".npmrc",
            ".pypirc", "credentials.json", "secrets.yaml", "secrets.yml", "*.tfstate",
            "*.tfstate.backup", "*.kdbx",
        )
    ],
]  # fmt: skip


# --- generators ---------------------------------------------------------------------------------


def _subset(values: list[str], *, min_size: int = 1, max_size: int = 3) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), min_size=min_size, max_size=max_size, unique=True)


def _tool_rules() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {}, optional={"allow": _subset(list(TOOLS)), "deny": _subset(list(TOOLS), min_size=0)}
    )


@st.composite
def _repository_rules(draw: st.DrawFn, *, legacy: bool) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    if draw(st.booleans()):
        rules["tools"] = draw(_tool_rules())
    if draw(st.booleans()):
        rules["paths"] = draw(
            st.fixed_dictionaries(
                {}, optional={"allow": _subset(PATH_GLOBS), "deny": _subset(PATH_GLOBS, min_size=0)}
            )
        )
    if not legacy and draw(st.integers(0, 3)) == 0:
        rules["limits"] = {"max_file_bytes": draw(st.sampled_from(LIMITS))}
    if not legacy and draw(st.booleans()):
        rules["secrets"] = {"output": draw(st.sampled_from(OUTPUTS))}
    return rules


def _time_value(text: str, *, as_timestamp: bool) -> Any:
    """The time as a string, or as a datetime that YAML writes as an unquoted timestamp."""
    return datetime.datetime.fromisoformat(text) if as_timestamp else text


@st.composite
def _policies(draw: st.DrawFn) -> dict[str, Any]:
    legacy = draw(st.integers(0, 5)) == 5
    policy: dict[str, Any] = {} if legacy else {"version": 1}
    effects = st.sampled_from(["allow", "deny"])
    defaults = draw(st.fixed_dictionaries({}, optional={"read": effects, "write": effects}))
    if not legacy and draw(st.booleans()):
        defaults["automation"] = draw(effects)
    if defaults:
        policy["defaults"] = defaults
    if draw(st.booleans()):
        policy["tools"] = draw(_tool_rules())
    keys = draw(_subset(EXACT_KEYS if legacy else REPO_KEYS, min_size=0, max_size=4))
    if keys:
        policy["repositories"] = {key: draw(_repository_rules(legacy=legacy)) for key in keys}
    if legacy:
        return policy
    if draw(st.booleans()):
        policy["limits"] = {"max_file_bytes": draw(st.sampled_from(LIMITS))}
    output = draw(st.sampled_from([None, *OUTPUTS]))
    store_paths = draw(st.sampled_from([None, "allow", "deny"]))
    secrets = {"output": output, "store_paths": store_paths}
    if output is not None or store_paths is not None:
        policy["secrets"] = {key: value for key, value in secrets.items() if value is not None}
    write: dict[str, Any] = {}
    if draw(st.integers(0, 3)) > 0:
        write["repositories"] = draw(_subset(REPO_KEYS, min_size=0))
    if draw(st.booleans()):
        write["branches"] = draw(_subset(BRANCH_GLOBS))
    if write:
        policy["write"] = write
    roles = draw(_subset(ROLES, min_size=1, max_size=2))
    if roles:
        policy["roles"] = {}
        for name in roles:
            role: dict[str, Any] = {}
            if draw(st.integers(0, 3)) > 0:
                role["tools"] = draw(_tool_rules())
            if draw(st.booleans()):
                role["capabilities"] = draw(_subset(list(CAPABILITIES)))
            if draw(st.booleans()):
                role["repositories"] = draw(_subset(REPO_KEYS))
            policy["roles"][name] = role
    principals = draw(_subset(PRINCIPALS, min_size=1, max_size=2))
    if principals:
        policy["principals"] = {}
        for name in principals:
            principal: dict[str, Any] = {}
            if draw(st.integers(0, 3)) > 0:
                principal["roles"] = draw(_subset(roles))
            window = draw(st.sampled_from([(None, None), (0, None), (None, 2), (0, 2), (1, 2), (0, 1)]))
            for key, index in zip(("not_before", "expires"), window, strict=True):
                if index is not None:
                    principal[key] = _time_value(WINDOW[index], as_timestamp=draw(st.booleans()))
            if draw(st.booleans()):
                principal["repositories"] = draw(_subset(REPO_KEYS))
            policy["principals"][name] = principal
    for rules in policy.get("repositories", {}).values():
        for scope, names in (("roles", roles), ("principals", principals)):
            if draw(st.booleans()):
                rules.setdefault("paths", {})[scope] = {
                    name: draw(_path_rules()) for name in draw(_subset(names))
                }
    return policy


def _path_rules() -> st.SearchStrategy[dict[str, Any]]:
    """A role's or a principal's path rules: broad allowlists and few denies, so that calls pass them too."""
    allow, deny = _subset(PATH_GLOBS, min_size=2, max_size=5), _subset(PATH_GLOBS, min_size=0, max_size=1)
    return st.fixed_dictionaries({}, optional={"allow": allow, "deny": deny})


def _principal_input(who: str, scopes: list[str]) -> dict[str, Any]:
    """The input's principal: an automation job's for `automation:<job>`, else an API key's."""
    kind = "automation" if who.startswith("automation:") else "api_key"
    return {"id": who, "kind": kind, "scopes": scopes, "roles": []}


def _context(who: str, *, write_mode: bool, time: str) -> dict[str, Any]:
    context: dict[str, Any] = {
        "write_mode": write_mode,
        "time": time,
        "client_ip": "127.0.0.1",
        "request_id": "r",
    }
    if who.startswith("automation:"):
        job = who.removeprefix("automation:")
        context["automation"] = {"job": job, "trigger": "schedule", "event": None, "delivery": None}
    return context


@st.composite
def _inputs(draw: st.DrawFn) -> dict[str, Any]:
    tool = draw(st.sampled_from(list(TOOLS)))
    repo = draw(st.sampled_from([None, *REPOS]))
    path = None if repo is None else draw(st.sampled_from([None, *PATHS]))
    resource: dict[str, Any] = {"repo": repo, "path": path, "ref": None}
    if draw(st.booleans()):
        resource["size"] = draw(st.sampled_from([None, *SIZES]))
    if draw(st.booleans()):
        resource["branch"] = draw(st.sampled_from([None, *BRANCHES]))
    who = draw(st.sampled_from([*CALLERS, *PRINCIPALS]))
    scopes = draw(st.sampled_from([SCOPES, SCOPES, SCOPES, SCOPES[:1], SCOPES[:2], []]))
    return {
        "version": 1,
        "principal": _principal_input(who, scopes),
        "tool": {"name": tool, "capability": TOOLS[tool]},
        "resource": resource,
        "args": {},
        "context": _context(
            who,
            write_mode=draw(st.booleans()),
            time=draw(st.sampled_from([*TIMES, "2026-03-01T12:00:00Z", "2026-09-01T12:00:00Z"])),
        ),
    }


# --- the reference model ----------------------------------------------------------------------------


def path_glob_matches(glob: str, path: str) -> bool:
    """docs/policy.md: fnmatch ('*' and '?' cross '/'), where a '**' segment may also vanish with
    one of its slashes."""
    segments = glob.split("/")
    starred = [index for index, segment in enumerate(segments) if segment == "**"]
    for dropped in itertools.product((False, True), repeat=len(starred)):
        gone = {index for index, drop in zip(starred, dropped, strict=True) if drop}
        candidate = "/".join(segment for index, segment in enumerate(segments) if index not in gone)
        if fnmatch.fnmatchcase(path, candidate):
            return True
    return False


def is_secret_store(path: str) -> bool:
    """docs/policy.md: a built-in glob matches the lower-cased path, and none of its exceptions does."""
    lowered = path.lower()
    return any(
        path_glob_matches(glob, lowered) and not any(path_glob_matches(other, lowered) for other in unless)
        for glob, unless in SECRET_STORES
    )


def repo_matches(pattern: str, repo: str) -> bool:
    """An exact name or a glob whose wildcards stay within the owner or the name (case-insensitive)."""
    owner, name = pattern.lower().split("/")
    repo_owner, repo_name = repo.split("/")
    return fnmatch.fnmatchcase(repo_owner, owner) and fnmatch.fnmatchcase(repo_name, name)


def _ns(text: str) -> int | None:
    try:
        moment = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    return (moment - epoch) // datetime.timedelta(microseconds=1) * 1000


Reason = tuple[str, str]


def reference_decision(policy: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
    """The decision docs/policy.md describes: allow, the (rule, effect) reasons, obligations."""
    denials: set[Reason] = set()
    grants: set[Reason] = set()
    supports: set[Reason] = set()
    tool, capability = call["tool"]["name"], call["tool"]["capability"]
    resource = call["resource"]
    repo, path = resource["repo"], resource["path"]
    size, branch = resource.get("size"), resource.get("branch")
    known = capability in CAPABILITIES
    who = call["principal"]["id"]
    # docs/policy.md, "Automation principals": a job's call also needs tools:automation and an
    # automation grant, whatever the tool's capability.
    automation = call["principal"]["kind"] == "automation" or who.startswith("automation:")
    automation_grants: set[Reason] = set()
    if not known:
        denials.add(("capability.unknown", "deny"))
    elif f"tools:{capability}" not in call["principal"]["scopes"]:
        denials.add(("principal.scope", "deny"))
    if known and automation and "tools:automation" not in call["principal"]["scopes"]:
        denials.add(("principal.scope", "deny"))

    principal = policy.get("principals", {}).get(who)
    if principal is not None:
        prefix = f"principals.{who}"
        now = _ns(call["context"]["time"])
        for key, holds in (
            ("not_before", lambda bound: now >= bound),
            ("expires", lambda bound: now < bound),
        ):
            if key in principal:
                bound = _ns(str(principal[key]))
                assert bound is not None
                ok = now is not None and holds(bound)
                (supports if ok else denials).add((f"{prefix}.{key}", "allow" if ok else "deny"))
        scope = principal.get("repositories")
        if scope and repo is not None:
            hits = [index for index, entry in enumerate(scope) if repo_matches(entry, repo)]
            if not hits:
                denials.add((f"{prefix}.repositories", "deny"))
            supports.update((f"{prefix}.repositories[{index}]", "allow") for index in hits)
        for position, name in enumerate(principal.get("roles", [])):
            role = policy["roles"][name]
            tools = role.get("tools", {})
            for index, denied in enumerate(tools.get("deny", [])):
                if denied == tool:
                    denials.add((f"roles.{name}.tools.deny[{index}]", "deny"))
            scope = role.get("repositories")
            if scope and (repo is None or not any(repo_matches(entry, repo) for entry in scope)):
                continue
            role_grants = {
                (f"roles.{name}.tools.allow[{index}]", "allow")
                for index, allowed in enumerate(tools.get("allow", []))
                if allowed == tool
            } | {
                (f"roles.{name}.capabilities[{index}]", "allow")
                for index, granted in enumerate(role.get("capabilities", []))
                if granted == capability
            }
            if role_grants:
                grants.update(role_grants)
                supports.add((f"{prefix}.roles[{position}]", "allow"))
            role_automation_grants = {
                (f"roles.{name}.capabilities[{index}]", "allow")
                for index, granted in enumerate(role.get("capabilities", []))
                if granted == "automation"
            }
            if automation and role_automation_grants:
                automation_grants.update(role_automation_grants)
                supports.add((f"{prefix}.roles[{position}]", "allow"))

    def tool_rules(rules: dict[str, Any], prefix: str) -> None:
        for index, denied in enumerate(rules.get("deny", [])):
            if denied == tool:
                denials.add((f"{prefix}.deny[{index}]", "deny"))
        allowed = rules.get("allow", [])
        if allowed and tool not in allowed:
            denials.add((f"{prefix}.allow", "deny"))
        grants.update(
            (f"{prefix}.allow[{index}]", "allow") for index, name in enumerate(allowed) if name == tool
        )

    tool_rules(policy.get("tools", {}), "tools")
    secrets = policy.get("secrets", {})
    if path is not None and is_secret_store(path):
        if secrets.get("store_paths", "deny") == "deny":
            denials.add(("builtin.secret_store_paths", "deny"))
        else:
            supports.add(("secrets.store_paths", "allow"))
    outputs = [secrets.get("output", "mask")]
    approvals = [
        (0, "", index, f"write.require_approval[{index}]")
        for index, name in enumerate(policy.get("write", {}).get("require_approval", []))
        if name == tool
    ]
    limits: list[tuple[str, int]] = []
    if path is not None and "limits" in policy:
        limits.append(("limits.max_file_bytes", policy["limits"]["max_file_bytes"]))
    for key, rules in policy.get("repositories", {}).items():
        if repo is None or not repo_matches(key, repo):
            continue
        prefix = f"repo.{key.lower()}"
        tool_rules(rules.get("tools", {}), f"{prefix}.tools")
        outputs.append(rules.get("secrets", {}).get("output", "mask"))
        approvals.extend(
            (1, key.lower(), index, f"{prefix}.require_approval[{index}]")
            for index, name in enumerate(rules.get("require_approval", []))
            if name == tool
        )
        if path is not None:
            paths = rules.get("paths", {})
            # docs/policy.md, "Path rules per role and principal": the repository's block, the
            # blocks of the roles the principal holds (by the policy) and its own; each applies.
            held = principal.get("roles", []) if principal is not None else []
            blocks = [(f"{prefix}.paths", paths)]
            blocks += [
                (f"{prefix}.paths.roles.{name}", paths.get("roles", {})[name])
                for name in held
                if name in paths.get("roles", {})
            ]
            if who in paths.get("principals", {}):
                blocks.append((f"{prefix}.paths.principals.{who}", paths["principals"][who]))
            for block_prefix, block in blocks:
                for index, glob in enumerate(block.get("deny", [])):
                    if path_glob_matches(glob, path):
                        denials.add((f"{block_prefix}.deny[{index}]", "deny"))
                allowed = block.get("allow", [])
                hits = [index for index, glob in enumerate(allowed) if path_glob_matches(glob, path)]
                if allowed and not hits:
                    denials.add((f"{block_prefix}.allow", "deny"))
                supports.update((f"{block_prefix}.allow[{index}]", "allow") for index in hits)
            if "limits" in rules:
                limits.append((f"{prefix}.limits.max_file_bytes", rules["limits"]["max_file_bytes"]))
    if size is not None:
        denials.update((rule, "deny") for rule, limit in limits if size > limit)

    if capability in ("write", "automation"):
        ok = call["context"]["write_mode"] is True
        (supports if ok else denials).add(("context.write_mode", "allow" if ok else "deny"))
        write = policy.get("write", {})
        whitelist = write.get("repositories", [])
        hits = [
            index for index, entry in enumerate(whitelist) if repo is not None and repo_matches(entry, repo)
        ]
        if not hits:
            denials.add(("write.repositories", "deny"))
        supports.update((f"write.repositories[{index}]", "allow") for index in hits)
        if branch is not None:
            branches = write.get("branches", [])
            hits = [index for index, glob in enumerate(branches) if path_glob_matches(glob, branch)]
            if branches and not hits:
                denials.add(("write.branches", "deny"))
            supports.update((f"write.branches[{index}]", "allow") for index in hits)

    if known:
        effect = policy.get("defaults", {}).get(capability, "allow" if capability == "read" else "deny")
        if effect == "allow":
            grants.add((f"defaults.{capability}", "allow"))
        if not grants:
            denials.add((f"defaults.{capability}", "deny"))
    if known and automation:
        if policy.get("defaults", {}).get("automation", "deny") == "allow":
            automation_grants.add(("defaults.automation", "allow"))
        if not automation_grants:
            denials.add(("defaults.automation", "deny"))
        supports.update(automation_grants)
    if known and not denials and grants:
        obligations: dict[str, Any] = {"secrets": "block" if "block" in outputs else "mask"}
        if limits:
            obligations["max_file_bytes"] = min(limit for _, limit in limits)
        if approvals and capability in ("write", "automation"):
            obligations["require_approval"] = [rule for *_, rule in sorted(approvals)]
        return {"allow": True, "reasons": sorted(grants | supports), "obligations": obligations}
    return {"allow": False, "reasons": sorted(denials), "obligations": {}}


def _comparable(decision: dict[str, Any]) -> dict[str, Any]:
    reasons = [(reason["rule"], reason["effect"]) for reason in decision["reasons"]]
    assert len(reasons) == len(set(reasons)), decision
    obligations = dict(decision["obligations"])
    if "require_approval" in obligations:  # in order; the sources are checked by the golden cases
        obligations["require_approval"] = [entry["rule"] for entry in obligations["require_approval"]]
    return {"allow": decision["allow"], "reasons": sorted(reasons), "obligations": obligations}


# --- the test ---------------------------------------------------------------------------------------


def _decide_as_the_model(
    opa: str, tmp_path: Path, policy: dict[str, Any], calls: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """OPA's decisions of `calls` under `policy` (compiled here), each checked against the model."""
    text = yaml.safe_dump(policy, sort_keys=False)
    source = tmp_path / "policy.yaml"
    source.write_text(text, encoding="utf-8")
    info = build_bundle(source, tmp_path / "bundle.tar.gz")
    got: list[dict[str, Any]] = opa_eval(
        opa,
        "[d | some c in input.calls; d := data.aegis.authz.decision with input as c]",
        {"calls": calls},
        bundle=info.path,
    )
    for call, decision in zip(calls, got, strict=True):
        assert decision["revision"] == info.revision
        want = reference_decision(policy, call)
        assert _comparable(decision) == want, f"policy:\n{text}\ninput: {json.dumps(call)}"
    return got


def test_model_examples() -> None:
    """The model's own glob readings match the documented table."""
    assert path_glob_matches("src/**", "src") and path_glob_matches("a/**/b", "a/b")
    assert path_glob_matches("**/.env", "a/b/.env") and not path_glob_matches("**/.env", "a/x.env")
    assert path_glob_matches("src/*", "src/a/b") and not path_glob_matches("src/**", "srcx/a")
    assert repo_matches("acme/*", "acme/app") and not repo_matches("*/app", "acme/lib")
    assert is_secret_store("a/.ENV") and is_secret_store(".ssh/.env.example")
    assert not is_secret_store(".env.example") and not is_secret_store("deploy/id_rsa.pub")


def _situations(decision: dict[str, Any]) -> set[str]:
    """Which of SECRETS_SITUATIONS `decision` shows."""
    shown = {f"{reason['effect']} {reason['rule']}" for reason in decision["reasons"]}
    shown.add(f"obligation {decision['obligations'].get('secrets')}")
    return shown.intersection(SECRETS_SITUATIONS)


def test_opa_agrees_with_the_reference_model(opa: str, tmp_path: Path) -> None:
    evaluated: list[int] = []
    seen: Counter[str] = Counter()

    @settings(
        max_examples=POLICIES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        policy=_policies(), calls=st.lists(_inputs(), min_size=CASES_PER_POLICY, max_size=CASES_PER_POLICY)
    )
    def check(policy: dict[str, Any], calls: list[dict[str, Any]]) -> None:
        for decision in _decide_as_the_model(opa, tmp_path, policy, calls):
            seen.update(_situations(decision))
        evaluated.append(len(calls))

    check()
    assert sum(evaluated) >= MIN_CASES
    assert all(seen[situation] >= MIN_SEEN for situation in SECRETS_SITUATIONS), seen


# --- require_approval, where allowed writes are common ---------------------------------------------
# A seeded random generator rather than Hypothesis: the situations below need long lists in varied
# orders under several matching keys, which Hypothesis's small, simple examples seldom give.

APPROVAL_POLICIES = 80
APPROVAL_SEED = 20261121
# Each of these must be decided at least MIN_SEEN times.
APPROVAL_SITUATIONS = (
    "held once",
    "held by several entries",
    "held by repository keys listing the tool at decreasing positions",
    "gated, not held",
    "read of a listed tool",
)


def _prefix(rng: random.Random, values: list[str], min_size: int) -> list[str]:
    """The first min_size to len(values) of `values` in a random order."""
    return rng.sample(values, rng.randint(min_size, len(values)))


def _approval_policy(rng: random.Random) -> dict[str, Any]:
    mostly_allow = ["allow", "allow", "allow", "deny"]
    policy: dict[str, Any] = {
        "version": 1,
        "defaults": {"write": rng.choice(mostly_allow), "automation": rng.choice(mostly_allow)},
        "write": {"repositories": rng.choice([["*/*"], ["acme/*", "*/app"], _prefix(rng, REPO_KEYS, 1)])},
    }
    if rng.random() < 0.75:
        policy["write"]["require_approval"] = _prefix(rng, list(TOOLS), 0)
    if rng.random() < 0.2:
        policy["tools"] = {"deny": _prefix(rng, list(TOOLS), 1)}
    keys = _prefix(rng, REPO_KEYS, 0)
    if keys:
        policy["repositories"] = {}
        for key in keys:
            rules: dict[str, Any] = {}
            if rng.random() < 0.8:
                rules["require_approval"] = _prefix(rng, list(TOOLS), 1)
            if rng.random() < 0.2:
                rules["tools"] = {"deny": _prefix(rng, list(TOOLS), 1)}
            policy["repositories"][key] = rules
    return policy


def _approval_input(rng: random.Random) -> dict[str, Any]:
    gated = [name for name, capability in TOOLS.items() if capability in ("write", "automation")]
    tool = rng.choice([*gated, *gated, *TOOLS])
    return {
        "version": 1,
        "principal": {"id": "bot-c", "kind": "api_key", "scopes": SCOPES, "roles": []},
        "tool": {"name": tool, "capability": TOOLS[tool]},
        "resource": {"repo": rng.choice([None, "acme/app", "acme/app", *REPOS]), "path": None, "ref": None},
        "args": {},
        "context": {
            "write_mode": rng.random() < 0.75,
            "time": "2026-03-01T12:00:00Z",
            "client_ip": "127.0.0.1",
            "request_id": "r",
        },
    }


def _approval_situations(policy: dict[str, Any], decision: dict[str, Any], call: dict[str, Any]) -> set[str]:
    held = decision["obligations"].get("require_approval", [])
    capability = call["tool"]["capability"]
    shown = {"held once"} if len(held) == 1 else {"held by several entries"} if held else set()
    rules = [entry["rule"] for entry in held]
    positions = [int(rule.rsplit("[")[-1][:-1]) for rule in rules if rule.startswith("repo.")]
    if any(later < earlier for earlier, later in itertools.pairwise(positions)):
        shown.add("held by repository keys listing the tool at decreasing positions")
    if decision["allow"] and not held and capability in ("write", "automation"):
        shown.add("gated, not held")
    listed = policy["write"].get("require_approval", [])
    if decision["allow"] and capability == "read" and call["tool"]["name"] in listed:
        shown.add("read of a listed tool")
    return shown


def test_opa_agrees_with_the_reference_model_on_require_approval(opa: str, tmp_path: Path) -> None:
    rng = random.Random(APPROVAL_SEED)  # noqa: S311 (reproducible test data, not a secret)
    seen: Counter[str] = Counter()
    for _ in range(APPROVAL_POLICIES):
        policy = _approval_policy(rng)
        calls = [_approval_input(rng) for _ in range(CASES_PER_POLICY)]
        for call, decision in zip(calls, _decide_as_the_model(opa, tmp_path, policy, calls), strict=True):
            seen.update(_approval_situations(policy, decision, call))
    assert all(seen[situation] >= MIN_SEEN for situation in APPROVAL_SITUATIONS), seen


# --- path rules per role and per principal, where calls that pass them are common ----------------
# The first generator's listed principals mostly have time windows that deny, so its calls seldom
# pass a role's or a principal's path allowlist; these policies list principals without windows.

PATH_SCOPE_POLICIES = 60
PATH_SCOPE_SEED = 20261203
PATH_SCOPE_SITUATIONS = (
    "deny paths.roles",
    "allow paths.roles",
    "deny paths.principals",
    "allow paths.principals",
)


def _path_scope_policy(rng: random.Random) -> dict[str, Any]:
    def block() -> dict[str, Any]:
        rules: dict[str, Any] = {}
        if rng.random() < 0.8:
            rules["allow"] = _prefix(rng, PATH_GLOBS, 1)[:4]
        if rng.random() < 0.5:
            rules["deny"] = _prefix(rng, PATH_GLOBS, 1)[:2]
        return rules

    policy: dict[str, Any] = {
        "version": 1,
        "roles": {role: {} for role in ROLES},
        "principals": {name: {"roles": _prefix(rng, ROLES, 0)} for name in PRINCIPALS},
        "repositories": {},
    }
    for key in _prefix(rng, REPO_KEYS, 1)[:3]:
        paths: dict[str, Any] = block() if rng.random() < 0.3 else {}
        for scope, names in (("roles", ROLES), ("principals", PRINCIPALS)):
            if rng.random() < 0.7:
                paths[scope] = {name: block() for name in _prefix(rng, names, 1)}
        policy["repositories"][key] = {"paths": paths}
    return policy


def _path_scope_input(rng: random.Random) -> dict[str, Any]:
    return {
        "version": 1,
        "principal": {"id": rng.choice(CALLERS), "kind": "api_key", "scopes": SCOPES, "roles": []},
        "tool": {"name": "get_file_contents", "capability": "read"},
        "resource": {"repo": rng.choice(REPOS), "path": rng.choice(PATHS), "ref": None},
        "args": {},
        "context": {
            "write_mode": False,
            "time": "2026-03-01T12:00:00Z",
            "client_ip": "127.0.0.1",
            "request_id": "r",
        },
    }


def test_opa_agrees_with_the_reference_model_on_path_rules_per_role_and_principal(
    opa: str, tmp_path: Path
) -> None:
    rng = random.Random(PATH_SCOPE_SEED)  # noqa: S311 (reproducible test data, not a secret)
    seen: Counter[str] = Counter()
    for _ in range(PATH_SCOPE_POLICIES):
        policy = _path_scope_policy(rng)
        calls = [_path_scope_input(rng) for _ in range(CASES_PER_POLICY)]
        for decision in _decide_as_the_model(opa, tmp_path, policy, calls):
            seen.update(
                f"{reason['effect']} paths.{scope}"
                for reason in decision["reasons"]
                for scope in ("roles", "principals")
                if f".paths.{scope}." in reason["rule"]
            )
    assert all(seen[situation] >= MIN_SEEN for situation in PATH_SCOPE_SITUATIONS), seen


# --- automation jobs, where calls that pass the automation gate are common ------------------------
# The first generator has no jobs (its counts of the secrets situations hold for its own draws);
# these policies grant automation often, and their calls mix jobs with keys the gate must not touch.

AUTOMATION_POLICIES = 80
AUTOMATION_SEED = 20261215
AUTOMATION_SITUATIONS = (
    "deny defaults.automation",
    "allow defaults.automation",
    "allow by a role's automation grant",
    "deny of a job with a grant",
    "job's write allowed",
    "job's write held for approval",
    "key allowed",
)
# The tools of a job's calls: the reads and the write of TOOLS, the automation one, an unknown one.
AUTOMATION_TOOLS = [
    "get_file_contents",
    "list_commits",
    "create_file",
    "create_file",
    "create_file",
    "run_job",
    "shell",
]


def _automation_policy(rng: random.Random) -> dict[str, Any]:
    roles: dict[str, Any] = {}
    for name in ROLES:
        role: dict[str, Any] = {"capabilities": _prefix(rng, list(CAPABILITIES), 1)}
        if rng.random() < 0.6:
            role["repositories"] = _prefix(rng, REPO_KEYS, 1)[:2]
        if rng.random() < 0.2:
            role["tools"] = {"deny": [rng.choice(list(TOOLS))]}
        roles[name] = role
    principals: dict[str, Any] = {name: {"roles": _prefix(rng, ROLES, 0)} for name in [*JOBS, "bot-a"]}
    if rng.random() < 0.3:
        principals[rng.choice(JOBS)]["repositories"] = _prefix(rng, REPO_KEYS, 1)[:2]
    if rng.random() < 0.2:  # a window that the calls' time (2026-03-01) is in, or is not
        principals[rng.choice(JOBS)].update(rng.choice([{"not_before": WINDOW[0]}, {"expires": WINDOW[0]}]))
    policy: dict[str, Any] = {
        "version": 1,
        "defaults": {
            "read": rng.choice(["allow", "allow", "deny"]),
            "write": rng.choice(["allow", "allow", "deny"]),
            "automation": rng.choice(["allow", "deny"]),
        },
        "write": {"repositories": rng.choice([["*/*"], ["acme/*", "*/app"], _prefix(rng, REPO_KEYS, 1)])},
        "roles": roles,
        "principals": principals,
    }
    if rng.random() < 0.5:
        policy["write"]["require_approval"] = _prefix(rng, ["create_file", "run_job", "list_commits"], 3)
    if rng.random() < 0.3:
        policy["tools"] = {"deny": [rng.choice(list(TOOLS))]}
    if rng.random() < 0.5:
        key = rng.choice(REPO_KEYS)
        paths: dict[str, Any] = {"deny": _prefix(rng, PATH_GLOBS, 1)[:2]}
        if rng.random() < 0.5:
            paths["principals"] = {rng.choice(JOBS): {"allow": _prefix(rng, PATH_GLOBS, 2)[:4]}}
        if rng.random() < 0.3:
            paths["roles"] = {rng.choice(ROLES): {"deny": [rng.choice(PATH_GLOBS)]}}
        policy["repositories"] = {key: {"paths": paths}}
    if rng.random() < 0.2:
        policy["secrets"] = {"store_paths": "allow"}
    return policy


def _automation_input(rng: random.Random) -> dict[str, Any]:
    who = rng.choice([*JOB_CALLERS, *JOB_CALLERS, *JOB_CALLERS, "bot-a", "bot-c"])
    tool = rng.choice(AUTOMATION_TOOLS)
    repo = rng.choice([None, *REPOS])
    path = None if repo is None or rng.random() < 0.5 else rng.choice(PATHS)
    scopes = rng.choice([SCOPES, SCOPES, SCOPES, SCOPES[:2], SCOPES[::2]])
    return {
        "version": 1,
        "principal": _principal_input(who, scopes),
        "tool": {"name": tool, "capability": TOOLS[tool]},
        "resource": {"repo": repo, "path": path, "ref": None},
        "args": {},
        "context": _context(who, write_mode=rng.random() < 0.75, time="2026-03-01T12:00:00Z"),
    }


def _automation_situations(
    policy: dict[str, Any], decision: dict[str, Any], call: dict[str, Any]
) -> set[str]:
    reasons = {(reason["rule"], reason["effect"]) for reason in decision["reasons"]}
    job = call["principal"]["kind"] == "automation"
    shown = {f"{effect} {rule}" for rule, effect in reasons if rule == "defaults.automation"}
    role_grants = {
        f"roles.{name}.capabilities[{index}]"
        for name, role in policy["roles"].items()
        for index, capability in enumerate(role["capabilities"])
        if capability == "automation"
    }
    if job and decision["allow"] and any(rule in role_grants for rule, _ in reasons):
        shown.add("allow by a role's automation grant")
    if job and not decision["allow"] and ("defaults.automation", "deny") not in reasons:
        shown.add("deny of a job with a grant")
    if job and decision["allow"] and call["tool"]["capability"] == "write":
        shown.add(
            "job's write held for approval"
            if "require_approval" in decision["obligations"]
            else "job's write allowed"
        )
    if not job and decision["allow"]:
        shown.add("key allowed")
    return shown


def test_opa_agrees_with_the_reference_model_on_automation_jobs(opa: str, tmp_path: Path) -> None:
    rng = random.Random(AUTOMATION_SEED)  # noqa: S311 (reproducible test data, not a secret)
    seen: Counter[str] = Counter()
    for _ in range(AUTOMATION_POLICIES):
        policy = _automation_policy(rng)
        calls = [_automation_input(rng) for _ in range(CASES_PER_POLICY)]
        for call, decision in zip(calls, _decide_as_the_model(opa, tmp_path, policy, calls), strict=True):
            seen.update(_automation_situations(policy, decision, call))
    assert all(seen[situation] >= MIN_SEEN for situation in AUTOMATION_SITUATIONS), seen
