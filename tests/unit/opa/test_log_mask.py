"""The bundle's decision-log mask (system.log.mask), run by the real OPA on a compiled bundle: it
erases every content argument of the gateway's tools and the arguments the policy hashes, and
keeps the target arguments the audit log records in clear."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from policy_compiler import build_bundle

from gateway.tools import CONTENT_ARGUMENTS, default_registry
from tests.processes import opa_binary


def masked(tmp_path: Path, policy: str, args: dict[str, object]) -> set[str]:
    (tmp_path / "policy.yaml").write_text(policy)
    bundle = build_bundle(tmp_path / "policy.yaml", tmp_path / "bundle.tar.gz").path
    event = {"decision_id": "d1", "path": "aegis/authz/decision", "input": {"version": 1, "args": args}}
    done = subprocess.run(
        [
            opa_binary(),
            "eval",
            "--bundle",
            str(bundle),
            "--format",
            "json",
            "--stdin-input",
            "data.system.log.mask",
        ],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(done.stdout)["result"][0]["expressions"][0]["value"])


def test_the_mask_erases_every_content_argument_and_keeps_the_targets(tmp_path: Path) -> None:
    targets = {name for bound in default_registry() for name in bound.tool.audited_args}
    args = {name: "x" for name in CONTENT_ARGUMENTS | targets}
    assert masked(tmp_path, "{}\n", args) == {f"/input/args/{name}" for name in CONTENT_ARGUMENTS}


def test_the_mask_erases_the_arguments_the_policy_hashes(tmp_path: Path) -> None:
    policy = "audit: {hash_arguments: [query, path_prefix]}\n"
    args = {"query": "AKIA", "path_prefix": "src", "ref": "main"}
    assert masked(tmp_path, policy, args) == {"/input/args/query", "/input/args/path_prefix"}
