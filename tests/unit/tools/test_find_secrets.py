"""find_secrets against a scripted Gitea: the tree at the commit the ref names, only the allowed paths read,
each as the blob the listing named; each secret reported by path, line, kind, blob and fingerprint, never
by its characters; binary, oversized and unreached files counted; fingerprints stable and distinct."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pytest

from gateway.sanitize import sanitize_output
from gateway.tools import ToolCall, ToolOutput, default_registry
from gateway.tools._walk import MAX_FILE_BYTES, MAX_FILES_READ
from gateway.tools.read_secrets import MAX_FINDINGS, find_secrets, fingerprint
from gateway.vocabulary import Resource
from tests.unit.sanitize.fakes import GITHUB_TOKEN, private_key
from tests.unit.tools.test_file_contents import HideSecrets
from tests.unit.tools.test_upstream_reads import ScriptedGitea

COMMIT = "c" * 40
REPO = "/api/v1/repos/acme/app"
KEY = private_key()
OTHER_TOKEN = GITHUB_TOKEN[:-1] + "Q"
SETTINGS = f"# settings\nTIMEOUT = 30\n\n{KEY}\nGITHUB = {GITHUB_TOKEN}\n".encode()


def sha_of(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()  # noqa: S324 - git's object id


def repository(files: Mapping[str, bytes], *, sizes: Mapping[str, int] | None = None) -> ScriptedGitea:
    """acme/app, default branch main at COMMIT, holding `files` (a listed size may be overridden)."""
    entries = [
        {"path": path, "type": "blob", "sha": sha_of(data), "size": (sizes or {}).get(path, len(data))}
        for path, data in files.items()
    ]
    answers: dict[str, Any] = {
        REPO: {"default_branch": "main"},
        f"{REPO}/git/commits/main": {"sha": COMMIT},
        f"{REPO}/git/trees/{COMMIT}": {"sha": COMMIT, "tree": [{"path": "src", "type": "tree"}, *entries]},
    }
    for data in files.values():
        answers[f"{REPO}/git/blobs/{sha_of(data)}"] = {
            "sha": sha_of(data),
            "content": base64.b64encode(data).decode(),
            "encoding": "base64",
        }
    return ScriptedGitea(answers)


def scan(gitea: ScriptedGitea) -> ToolCall:
    resource = Resource(owner="acme", name="app")
    return ToolCall(gitea, resource, {}, paths=HideSecrets(), repos=HideSecrets(), secrets="mask")  # type: ignore[arg-type]


def blobs_read(gitea: ScriptedGitea) -> list[str]:
    return [path.rsplit("/", 1)[1] for path, _ in gitea.asked if "/git/blobs/" in path]


async def test_each_secret_is_reported_by_path_line_kind_blob_and_fingerprint_never_by_its_text() -> None:
    gitea = repository({"config/settings.py": SETTINGS, "README.md": b"# app\n"})
    output = await find_secrets(scan(gitea))
    sha = sha_of(SETTINGS)
    found = output.structured["findings"]
    assert [(f["path"], f["line"], f["kind"], f["blob_sha"]) for f in found] == [
        ("config/settings.py", 4, "private_key", sha),
        ("config/settings.py", 4 + KEY.count("\n") + 1, "github_token", sha),
    ]
    assert all(
        len(f["fingerprint"]) == 64 and set(f) == {"path", "line", "kind", "blob_sha", "fingerprint"}
        for f in found
    )
    shown = json.dumps(output.structured)
    assert GITHUB_TOKEN[4:] not in shown and "MIIE" not in shown and "PRIVATE KEY" not in shown
    assert output.structured == {
        "ref": "main",
        "commit": COMMIT,
        "findings": found,
        "files_scanned": 2,
        "files_skipped": {"binary": 0, "too_large": 0, "not_reached": 0},
        "complete": True,
        "stopped_by": None,
    }
    assert (output.withheld, output.findings, output.text) == (0, (), None)


async def test_the_default_branch_is_scanned_and_every_file_is_read_as_its_listed_blob() -> None:
    plain = b"print(1)\n"
    gitea = repository({"a.py": SETTINGS, "b.py": plain})
    await find_secrets(scan(gitea))
    asked = [path for path, _ in gitea.asked]
    assert asked[:3] == [REPO, f"{REPO}/git/commits/main", f"{REPO}/git/trees/{COMMIT}"]
    assert asked[3:] == [f"{REPO}/git/blobs/{sha_of(SETTINGS)}", f"{REPO}/git/blobs/{sha_of(plain)}"]
    assert not any("/raw/" in path or "/contents" in path for path in asked)


async def test_a_denied_path_is_neither_read_nor_shown_and_is_counted() -> None:
    denied = f"DB_TOKEN = {OTHER_TOKEN}\n".encode()
    gitea = repository({"src/secrets/prod.env": denied, "src/app.py": SETTINGS})
    output = await find_secrets(scan(gitea))
    assert sha_of(denied) not in blobs_read(gitea)
    assert output.withheld == 1
    assert {f["path"] for f in output.structured["findings"]} == {"src/app.py"}
    assert "prod.env" not in json.dumps(output.structured)


async def test_binary_oversized_and_unreached_files_are_skipped_and_counted() -> None:
    binary = b"\x89PNG\r\n\x1a\n\x00\x00" + GITHUB_TOKEN.encode()
    files = {"logo.png": binary, "big.txt": b"x", "app.py": SETTINGS}
    gitea = repository(files, sizes={"big.txt": MAX_FILE_BYTES + 1})
    output = await find_secrets(scan(gitea))
    assert output.structured["files_skipped"] == {"binary": 1, "too_large": 1, "not_reached": 0}
    assert output.structured["files_scanned"] == 1 and output.structured["complete"] is True
    assert sha_of(b"x") not in blobs_read(gitea)


async def test_the_walk_stops_at_max_files_and_says_so() -> None:
    files = {f"f{number:03d}.txt": f"n = {number}\n".encode() for number in range(MAX_FILES_READ + 5)}
    output = await find_secrets(scan(repository(files)))
    summary = output.structured
    assert (summary["complete"], summary["stopped_by"]) == (False, "max_files")
    assert summary["files_scanned"] == MAX_FILES_READ and summary["files_skipped"]["not_reached"] == 5


async def test_findings_stop_at_their_bound_and_say_so() -> None:
    many = "".join(f"k{number} = {GITHUB_TOKEN[:-3]}{number:03d}\n" for number in range(MAX_FINDINGS + 1))
    output = await find_secrets(scan(repository({"a.env.txt": many.encode(), "b.py": SETTINGS})))
    summary = output.structured
    assert len(summary["findings"]) == MAX_FINDINGS
    assert (summary["complete"], summary["stopped_by"]) == (False, "max_findings")


async def test_fingerprints_are_stable_across_runs_and_moves_and_differ_between_secrets() -> None:
    first = (await find_secrets(scan(repository({"a.py": SETTINGS})))).structured["findings"]
    again = (await find_secrets(scan(repository({"a.py": SETTINGS})))).structured["findings"]
    moved = b"# a new first line\n" + SETTINGS
    shifted = (await find_secrets(scan(repository({"a.py": moved})))).structured["findings"]
    assert (
        [f["fingerprint"] for f in first]
        == [f["fingerprint"] for f in again]
        == [f["fingerprint"] for f in shifted]
    )
    assert [f["line"] + 1 for f in first] == [f["line"] for f in shifted]
    other = SETTINGS.replace(GITHUB_TOKEN.encode(), OTHER_TOKEN.encode())
    changed = (await find_secrets(scan(repository({"a.py": other})))).structured["findings"]
    assert changed[0]["fingerprint"] == first[0]["fingerprint"]  # the same key
    assert changed[1]["fingerprint"] != first[1]["fingerprint"]  # another token
    elsewhere = (await find_secrets(scan(repository({"b.py": SETTINGS})))).structured["findings"]
    assert not {f["fingerprint"] for f in elsewhere} & {f["fingerprint"] for f in first}


def test_a_fingerprint_binds_repository_path_kind_and_secret() -> None:
    digest = "d" * 64
    base = fingerprint("acme/app", "a.py", "github_token", digest)
    assert base == fingerprint("acme/app", "a.py", "github_token", digest)
    others = {
        fingerprint("acme/other", "a.py", "github_token", digest),
        fingerprint("acme/app", "b.py", "github_token", digest),
        fingerprint("acme/app", "a.py", "jwt", digest),
        fingerprint("acme/app", "a.py", "github_token", "e" * 64),
        fingerprint("acme/ap", "pa.py", "github_token", digest),  # no two fields run together
    }
    assert base not in others and len(others) == 5


@pytest.mark.parametrize("mode", ["mask", "block"])
async def test_the_output_passes_the_sanitizer_unchanged(mode: Any) -> None:
    output: ToolOutput = await find_secrets(scan(repository({"a.py": SETTINGS})))
    sanitized = sanitize_output(output.structured, output.text, mode=mode)
    assert sanitized.structured == output.structured
    assert (sanitized.findings, sanitized.blocked) == ((), False)


def test_find_secrets_is_a_read_tool_that_audits_only_its_ref() -> None:
    bound = default_registry().get("find_secrets")
    assert bound is not None
    assert (bound.tool.capability, bound.tool.audited_args, bound.tool.shows_paths) == (
        "read",
        ("ref",),
        True,
    )
    assert bound.describe()["annotations"]["readOnlyHint"] is True
    assert set(bound.schema["properties"]) == {"owner", "repo", "ref"}
