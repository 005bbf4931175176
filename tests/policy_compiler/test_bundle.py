"""build_bundle: layout, manifest, revision, and byte-for-byte reproducibility."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from policy_compiler import COMPILER_ID, BundleError, PolicyError, build_bundle, bundle_revision, load_policy
from policy_compiler._resources import rego_dir

from gateway.demo import EXAMPLE_POLICY

WritePolicy = Callable[..., Path]
EXAMPLE = EXAMPLE_POLICY


def _members(bundle: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(bundle, "r:gz") as tar:
        return {member.name: member for member in tar.getmembers()}


def _contents(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def _rego_sources() -> dict[str, bytes]:
    return {
        f"rego/{path.relative_to(rego_dir()).as_posix()}": path.read_bytes()
        for path in sorted(rego_dir().rglob("*.rego"))
        if not path.name.endswith("_test.rego")
    }


def test_bundle_layout(tmp_path: Path) -> None:
    info = build_bundle(EXAMPLE, tmp_path / "bundle.tar.gz")
    assert info.path == tmp_path / "bundle.tar.gz"
    contents = _contents(info.path)
    assert list(contents) == sorted(contents)
    assert set(contents) == {".manifest", "aegis/meta/data.json", "aegis/policy/data.json", *_rego_sources()}
    assert json.loads(contents["aegis/policy/data.json"]) == load_policy(EXAMPLE).to_data()
    assert json.loads(contents["aegis/meta/data.json"]) == {"revision": info.revision}
    for name, source in _rego_sources().items():
        assert contents[name] == source


def test_manifest_contents(tmp_path: Path) -> None:
    info = build_bundle(EXAMPLE, tmp_path / "bundle.tar.gz")
    manifest = json.loads(_contents(info.path)[".manifest"])
    assert manifest == {
        "revision": info.revision,
        "roots": ["aegis", "system/log"],
        "rego_version": 1,
        "metadata": {
            "source_sha256": hashlib.sha256(EXAMPLE.read_bytes()).hexdigest(),
            "compiler": COMPILER_ID,
        },
    }
    assert COMPILER_ID == "aegis-policy-compiler/1"


def test_revision_is_the_documented_hash_of_the_content_files(tmp_path: Path) -> None:
    info = build_bundle(EXAMPLE, tmp_path / "bundle.tar.gz")
    contents = _contents(info.path)
    assert bundle_revision(contents) == info.revision  # .manifest and aegis/meta are left out
    del contents[".manifest"]
    del contents["aegis/meta/data.json"]  # it carries the revision, so it is not hashed
    lines = b"".join(
        name.encode() + b"\0" + hashlib.sha256(contents[name]).hexdigest().encode() + b"\n"
        for name in sorted(contents)
    )
    assert info.revision == hashlib.sha256(lines).hexdigest() == bundle_revision(contents)
    assert len(info.revision) == 64


def test_same_policy_gives_byte_identical_bundles(tmp_path: Path) -> None:
    first = build_bundle(EXAMPLE, tmp_path / "a" / "bundle.tar.gz")
    second = build_bundle(EXAMPLE, tmp_path / "b" / "other-name.tar.gz")
    assert first.revision == second.revision
    assert first.path.read_bytes() == second.path.read_bytes()


@pytest.mark.parametrize("name", [EXAMPLE.name, "prod-policy.yaml"], ids=["same-name", "another-name"])
def test_same_policy_from_another_file_gives_the_same_bundle(tmp_path: Path, name: str) -> None:
    """The revision depends on the YAML only: its sources name it policy.yaml whatever the file is called."""
    copy = tmp_path / "elsewhere" / name
    copy.parent.mkdir()
    copy.write_bytes(EXAMPLE.read_bytes())
    assert (
        build_bundle(copy, tmp_path / "a.tar.gz").path.read_bytes()
        == build_bundle(EXAMPLE, tmp_path / "b.tar.gz").path.read_bytes()
    )


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda text: text + "# a comment\n", id="comment only"),
        pytest.param(lambda text: text.replace("src/secrets/**", "src/secret/**"), id="a glob"),
        pytest.param(lambda text: text.replace("write: deny", "write: allow"), id="a default"),
    ],
)
def test_different_policy_gives_a_different_revision(
    change: Callable[[str], str], write_policy: WritePolicy, tmp_path: Path
) -> None:
    original = build_bundle(write_policy(EXAMPLE.read_text(encoding="utf-8")), tmp_path / "a.tar.gz")
    changed = build_bundle(
        write_policy(change(EXAMPLE.read_text(encoding="utf-8")), "policy.yaml"), tmp_path / "b.tar.gz"
    )
    assert changed.revision != original.revision


def test_archive_metadata_is_fixed(tmp_path: Path) -> None:
    bundle = build_bundle(EXAMPLE, tmp_path / "bundle.tar.gz").path
    for member in _members(bundle).values():
        assert member.isfile()
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname, member.mode) == (
            0,
            0,
            0,
            "",
            "",
            0o644,
        )
    raw = bundle.read_bytes()
    assert raw[:3] == b"\x1f\x8b\x08"
    assert raw[3] == 0  # no FNAME, no FCOMMENT, no extra field
    assert raw[4:8] == b"\0\0\0\0"  # gzip mtime 0
    assert gzip.decompress(raw)[:20].startswith(b".manifest")


def test_test_files_are_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rego = tmp_path / "rego"
    (rego / "sub").mkdir(parents=True)
    (rego / "a.rego").write_text("package aegis.a\n", encoding="utf-8")
    (rego / "sub" / "b.rego").write_text("package aegis.b\n", encoding="utf-8")
    (rego / "a_test.rego").write_text("package aegis.a_test\n", encoding="utf-8")
    (rego / "notes.md").write_text("not rego\n", encoding="utf-8")
    monkeypatch.setenv("AEGIS_REGO_DIR", str(rego))
    bundle = build_bundle(EXAMPLE, tmp_path / "bundle.tar.gz").path
    assert sorted(_members(bundle)) == [
        ".manifest",
        "aegis/meta/data.json",
        "aegis/policy/data.json",
        "rego/a.rego",
        "rego/sub/b.rego",
    ]


def test_missing_rego_dir_is_a_bundle_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEGIS_REGO_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(BundleError, match="no Rego policy directory at AEGIS_REGO_DIR="):
        build_bundle(EXAMPLE, tmp_path / "bundle.tar.gz")
    assert not (tmp_path / "bundle.tar.gz").exists()


def test_invalid_policy_writes_no_bundle(write_policy: WritePolicy, tmp_path: Path) -> None:
    out = tmp_path / "bundle.tar.gz"
    with pytest.raises(PolicyError):
        build_bundle(write_policy("version: 2\n"), out)
    assert not out.exists()


def test_unwritable_destination_is_a_bundle_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(BundleError, match="cannot write the bundle"):
        build_bundle(EXAMPLE, blocker / "bundle.tar.gz")


def test_bundle_replaces_an_existing_file_whole(tmp_path: Path) -> None:
    out = tmp_path / "bundle.tar.gz"
    out.write_bytes(b"old")
    build_bundle(EXAMPLE, out)
    with tarfile.open(fileobj=io.BytesIO(out.read_bytes()), mode="r:gz") as tar:
        assert tar.getnames()[0] == ".manifest"
    assert [path.name for path in tmp_path.iterdir()] == ["bundle.tar.gz"]
