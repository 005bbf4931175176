"""get_file_contents against a scripted Gitea: the file's metadata first, a file over the size limit
refused before any of it is read, then exactly the blob the metadata of the decided path names; the text
returned once (as the result's text), the structured result holding its metadata only."""

from __future__ import annotations

import base64
from collections.abc import Collection, Mapping
from typing import Any

import pytest

from gateway.errors import FileTooLarge, UpstreamError
from gateway.sanitize import Binary
from gateway.tools import ToolCall
from gateway.tools.read import MAX_FILE_BYTES, TEXT_NOTE, get_file_contents
from gateway.vocabulary import Resource
from tests.unit.tools.test_upstream_reads import ScriptedGitea

SHA = "b" * 40
EXT = "/api/v1/repos/acme/app/contents-ext/src/app.py"
BLOB = f"/api/v1/repos/acme/app/git/blobs/{SHA}"


class HideSecrets:
    async def allowed(self, names: Collection[str]) -> frozenset[str]:
        return frozenset(name for name in names if not name.startswith("src/secrets"))


def metadata(path: str = "src/app.py", size: int = 6, kind: str = "file", **extra: Any) -> dict[str, Any]:
    return {"file_contents": {"path": path, "sha": SHA, "size": size, "type": kind, "content": None, **extra}}


def blob(data: bytes, sha: str = SHA) -> dict[str, Any]:
    return {"content": base64.b64encode(data).decode(), "encoding": "base64", "sha": sha, "size": len(data)}


def read(gitea: ScriptedGitea, path: str = "src/app.py", max_file_bytes: int | None = None) -> ToolCall:
    resource = Resource(owner="acme", name="app", path=path, ref="main")
    return ToolCall(
        gitea,  # type: ignore[arg-type]
        resource,
        {},
        paths=HideSecrets(),
        repos=HideSecrets(),
        secrets="mask",
        max_file_bytes=max_file_bytes,
    )


async def test_a_file_is_read_as_the_blob_its_metadata_names_and_returned_once() -> None:
    gitea = ScriptedGitea({EXT: metadata(), BLOB: blob(b"print\n")})
    output = await get_file_contents(read(gitea))
    assert gitea.asked == [(EXT, {"ref": "main"}), (BLOB, None)]
    assert output.text == "print\n"
    assert output.structured == {
        "path": "src/app.py",
        "sha": SHA,
        "size": 6,
        "type": "file",
        "ref": "main",
        "encoding": "utf-8",
        "charset": "utf-8",
        "note": TEXT_NOTE,
    }
    assert output.content_bytes == 6


async def test_a_binary_file_is_returned_once_as_binary_text() -> None:
    data = b"\x89PNG\x00\x01"
    gitea = ScriptedGitea({EXT: metadata(size=len(data)), BLOB: blob(data)})
    output = await get_file_contents(read(gitea))
    assert output.text == Binary(data)
    assert output.structured["encoding"] == "base64"
    assert "content" not in output.structured


@pytest.mark.parametrize(
    ("size", "max_file_bytes", "limit"),
    [
        (MAX_FILE_BYTES + 1, None, MAX_FILE_BYTES),
        (MAX_FILE_BYTES + 1, 1 << 30, MAX_FILE_BYTES),
        (101, 100, 100),
    ],
    ids=["over-the-tool-limit", "the-tool-limit-below-the-policy-one", "over-the-policy-limit"],
)
async def test_a_file_over_the_limit_is_refused_before_it_is_read(
    size: int, max_file_bytes: int | None, limit: int
) -> None:
    gitea = ScriptedGitea({EXT: metadata(size=size)})
    with pytest.raises(FileTooLarge, match=f"the file is {size} bytes, over the limit of {limit} bytes"):
        await get_file_contents(read(gitea, max_file_bytes=max_file_bytes))
    assert gitea.asked == [(EXT, {"ref": "main"})]


async def test_a_file_at_the_limit_is_read() -> None:
    gitea = ScriptedGitea({EXT: metadata(size=3), BLOB: blob(b"abc")})
    assert (await get_file_contents(read(gitea, max_file_bytes=3))).text == "abc"


@pytest.mark.parametrize(
    "answer",
    [
        metadata(path="src/other.py"),
        metadata(size=-1),
        metadata(size=True),
        metadata(size=None),
        {"file_contents": {"path": "src/app.py", "sha": None, "size": 6, "type": "file"}},
        {**metadata(), "dir_contents": []},
        {},
        [],
    ],
    ids=[
        "another-path",
        "negative-size",
        "bool-size",
        "no-size",
        "no-sha",
        "file-and-dir",
        "empty",
        "a-list",
    ],
)
async def test_a_malformed_metadata_answer_fails_before_any_read(answer: Any) -> None:
    gitea = ScriptedGitea({EXT: answer})
    with pytest.raises(UpstreamError, match="malformed"):
        await get_file_contents(read(gitea))
    assert [path for path, _ in gitea.asked] == [EXT]


@pytest.mark.parametrize(
    "answer", [blob(b"print\n!"), blob(b"print\n", sha="c" * 40), {"content": None, "sha": SHA}]
)
async def test_a_blob_that_is_not_the_one_described_fails(answer: Mapping[str, Any]) -> None:
    gitea = ScriptedGitea({EXT: metadata(), BLOB: answer})
    with pytest.raises(UpstreamError, match="malformed"):
        await get_file_contents(read(gitea))


async def test_a_directory_lists_the_entries_the_policy_shows() -> None:
    entries = [
        {"name": "app.py", "path": "src/app.py", "type": "file", "size": 6, "sha": SHA},
        {"name": "secrets", "path": "src/secrets", "type": "dir", "size": 0, "sha": SHA},
    ]
    gitea = ScriptedGitea({"/api/v1/repos/acme/app/contents-ext/src": {"dir_contents": entries}})
    output = await get_file_contents(read(gitea, path="src"))
    assert output.structured == {
        "path": "src",
        "type": "dir",
        "entries": [{"name": "app.py", "path": "src/app.py", "type": "file", "size": 6}],
    }
    assert output.withheld == 1
    assert len(gitea.asked) == 1


@pytest.mark.parametrize(
    ("kind", "extra", "target"),
    [
        ("symlink", {"target": "guide.md"}, "guide.md"),
        ("submodule", {"submodule_git_url": "https://g/c"}, "https://g/c"),
    ],
)
async def test_a_symlink_or_submodule_shows_its_target_without_a_read(
    kind: str, extra: dict[str, Any], target: str
) -> None:
    gitea = ScriptedGitea({EXT: metadata(kind=kind, size=MAX_FILE_BYTES + 1, **extra)})
    output = await get_file_contents(read(gitea))
    assert (output.structured["type"], output.structured["target"], output.text) == (kind, target, None)
    assert len(gitea.asked) == 1
