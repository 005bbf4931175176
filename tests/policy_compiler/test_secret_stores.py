"""The built-in secret-store globs: each entry, in Python and through OPA on a compiled bundle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from policy_compiler import (
    SECRET_STORE_GLOBS,
    SecretStoreGlob,
    build_bundle,
    glob_matches,
    is_secret_store_path,
    load_policy,
    policy_names,
)
from policy_compiler._glob import glob_problem
from policy_compiler._inventory import glob_example

from tests.policy_compiler.opa_run import opa_eval

WritePolicy = Callable[..., Path]

# Every glob of the list: paths it makes secret stores, and paths near them that stay ordinary.
ENTRIES: dict[str, tuple[list[str], list[str]]] = {
    "**/.env": ([".env", "deploy/prod/.env", "A/.ENV"], ["prod.env", ".envrc", "src/env", "a.env"]),
    "**/.env.*": (
        [".env.local", "app/.env.production", ".env.example.local", ".ENV.PROD"],
        [".env.example", "a/.env.sample", ".env.template", ".env.dist", "x/.ENV.EXAMPLE", "x.env.local"],
    ),
    "**/*.pem": (["key.pem", "certs/Server.PEM"], ["key.pem.bak", "pem/readme.md"]),
    "**/*.key": (["tls/server.key"], ["keyboard.py", "src/key.py", "a.keys"]),
    "**/*.p12": (["cert.p12"], ["p12.txt"]),
    "**/*.pfx": (["win/cert.pfx"], ["pfx.md"]),
    "**/*.jks": (["android/release.jks"], ["jks.md"]),
    "**/*.keystore": (["debug.keystore"], ["keystore.py", "src/keystore/mod.rs"]),
    "**/*.ppk": (["putty/server.ppk"], ["ppk.txt"]),
    "**/id_rsa": (["id_rsa", "deploy/id_rsa"], ["id_rsa.pub", "deploy/my_id_rsa", "id_rsa_test.go"]),
    "**/id_dsa": (["keys/id_dsa"], ["keys/id_dsa.pub"]),
    "**/id_ecdsa": (["id_ecdsa"], ["id_ecdsa.pub"]),
    "**/id_ed25519": (["ci/id_ed25519"], ["ci/id_ed25519.pub"]),
    "**/id_ecdsa_sk": (["id_ecdsa_sk"], ["id_ecdsa_sk.pub"]),
    "**/id_ed25519_sk": (["id_ed25519_sk"], ["id_ed25519_sk.pub"]),
    "**/.ssh/**": (
        [".ssh", ".ssh/config", "home/u/.ssh/id_rsa.pub"],
        [".sshd/config", "ssh/config", "docs/ssh.md"],
    ),
    "**/.gnupg/**": ([".gnupg/pubring.kbx", "home/.gnupg"], ["gnupg/readme.md"]),
    "**/.netrc": ([".netrc", "home/.netrc"], ["netrc.py", ".netrc.example"]),
    "**/_netrc": (["_netrc"], ["my_netrc"]),
    "**/.git-credentials": ([".git-credentials"], [".gitconfig"]),
    "**/.htpasswd": (["web/.htpasswd"], [".htaccess"]),
    "**/.pgpass": ([".pgpass"], ["pgpass.conf"]),
    "**/.aws/credentials": ([".aws/credentials", "ops/.aws/credentials"], [".aws/config", "aws/credentials"]),
    "**/.docker/config.json": ([".docker/config.json"], ["docker/config.json", ".docker/daemon.json"]),
    "**/.dockercfg": ([".dockercfg"], ["dockercfg.md"]),
    "**/.kube/config": ([".kube/config"], ["kube/config", ".kube/cache/x"]),
    "**/.npmrc": ([".npmrc", "web/.npmrc"], ["npmrc.md", ".nvmrc"]),
    "**/.pypirc": ([".pypirc"], ["pypirc.txt"]),
    "**/credentials.json": (
        ["credentials.json", "gcp/credentials.json"],
        ["gcp-credentials.json", "credentials.jsonc"],
    ),
    "**/secrets.yaml": (
        ["helm/secrets.yaml", "config/Secrets.YAML"],
        ["my-secrets.yaml", "src/secrets/app.yaml"],
    ),
    "**/secrets.yml": (["config/secrets.yml"], ["secrets.yml.sample"]),
    "**/*.tfstate": (["terraform.tfstate", "envs/prod/terraform.tfstate"], ["tfstate.md", "main.tf"]),
    "**/*.tfstate.backup": (["terraform.tfstate.backup"], ["terraform.tfstate.lock.info"]),
    "**/*.kdbx": (["vault/passwords.kdbx"], ["kdbx.md"]),
}
HITS = [(glob, path) for glob, (hits, _) in ENTRIES.items() for path in hits]
MISSES = [path for _, misses in ENTRIES.values() for path in misses]
BY_GLOB = {entry.glob: entry for entry in SECRET_STORE_GLOBS}


def test_every_glob_of_the_list_is_tested() -> None:
    assert list(ENTRIES) == [entry.glob for entry in SECRET_STORE_GLOBS]


@pytest.mark.parametrize("entry", SECRET_STORE_GLOBS, ids=[entry.glob for entry in SECRET_STORE_GLOBS])
def test_globs_are_valid_lower_case_and_their_exceptions_narrow_them(entry: SecretStoreGlob) -> None:
    for glob in (entry.glob, *entry.unless):
        assert glob_problem(glob) is None
        assert glob == glob.lower(), "paths are lower-cased before matching"
    for exception in entry.unless:
        sample = glob_example(exception)
        assert glob_matches(entry.glob, sample) and not entry.matches(sample), exception


@pytest.mark.parametrize(("glob", "path"), HITS, ids=[f"{glob} ~ {path}" for glob, path in HITS])
def test_secret_store_paths_are_matched_by_their_glob(glob: str, path: str) -> None:
    assert BY_GLOB[glob].matches(path)
    assert is_secret_store_path(path)


@pytest.mark.parametrize("path", MISSES)
def test_ordinary_paths_are_not_secret_stores(path: str) -> None:
    assert not is_secret_store_path(path)


def _read(path: str) -> dict[str, Any]:
    return {
        "version": 1,
        "principal": {"id": "agent", "kind": "api_key", "scopes": ["tools:read"], "roles": []},
        "tool": {"name": "get_file_contents", "capability": "read"},
        "resource": {"repo": "acme/app", "path": path, "ref": None},
        "args": {},
        "context": {"write_mode": False, "time": "2026-11-21T10:00:00Z", "request_id": "r"},
    }


def _decide(opa: str, policy: Path, out: Path, paths: list[str]) -> dict[str, list[tuple[str, str]]]:
    """For each path, the (rule, effect) reasons of OPA's decision on reading it, prefixed by its verdict."""
    bundle = build_bundle(policy, out).path
    query = "[d | some c in input.calls; d := data.aegis.authz.decision with input as c]"
    decisions = opa_eval(opa, query, {"calls": [_read(path) for path in paths]}, bundle=bundle)
    return {
        path: [("allow" if decision["allow"] else "deny", "")]
        + [(reason["rule"], reason["effect"]) for reason in decision["reasons"]]
        for path, decision in zip(paths, decisions, strict=True)
    }


def test_opa_denies_each_secret_store_by_the_builtin_rule(
    opa: str, write_policy: WritePolicy, tmp_path: Path
) -> None:
    paths = [path for _, path in HITS] + MISSES
    got = _decide(opa, write_policy("version: 1\n"), tmp_path / "bundle.tar.gz", paths)
    denied = [("deny", ""), ("builtin.secret_store_paths", "deny")]
    allowed = [("allow", ""), ("defaults.read", "allow")]
    assert got == {path: denied if is_secret_store_path(path) else allowed for path in paths}


def test_opa_allows_each_secret_store_when_store_paths_is_allow(
    opa: str, write_policy: WritePolicy, tmp_path: Path
) -> None:
    paths = [path for _, path in HITS]
    policy = write_policy("version: 1\nsecrets: {store_paths: allow}\n")
    got = _decide(opa, policy, tmp_path / "bundle.tar.gz", paths)
    relied_on = [("allow", ""), ("secrets.store_paths", "allow"), ("defaults.read", "allow")]
    assert got == dict.fromkeys(paths, relied_on)


def test_policy_names_sample_the_secret_stores_only_when_turned_off(write_policy: WritePolicy) -> None:
    default = policy_names(load_policy(write_policy("version: 1\n")))
    assert default.paths == ()
    allowed = policy_names(load_policy(write_policy("secrets: {store_paths: allow}\n")))
    assert {glob_example(entry.glob) for entry in SECRET_STORE_GLOBS} <= set(allowed.paths)
    assert all(is_secret_store_path(path) for path in allowed.paths)
