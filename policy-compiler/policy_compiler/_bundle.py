"""build_bundle: compile a policy file into a byte-reproducible OPA bundle (.tar.gz).

Bundle layout:
    .manifest                 {"revision", "roots": ["aegis", "system/log"], "rego_version": 1, "metadata"}
    aegis/meta/data.json      {"revision": R}: every decision reports the revision that made it
    aegis/policy/data.json    the compiled policy (data.aegis.policy)
    rego/<path>.rego          every .rego file of rego/ but the *_test.rego files

The revision is the SHA-256 (hex) of the content files (everything but .manifest and
aegis/meta/data.json, which carries the revision itself) taken in ascending order of their
bundle path (UTF-8 bytes): for each, its path, a NUL byte, the SHA-256
hex digest of its bytes, and a newline. Identical inputs give identical bytes: entries are sorted,
owners, modes and times are fixed, and the gzip header carries no name and mtime 0.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

from policy_compiler._errors import BundleError
from policy_compiler._loader import load_policy
from policy_compiler._model import Policy
from policy_compiler._resources import rego_dir

__all__ = [
    "COMPILER_ID",
    "DATA_PATH",
    "MANIFEST_PATH",
    "META_PATH",
    "BundleInfo",
    "build_bundle",
    "bundle_revision",
]

COMPILER_ID = "aegis-policy-compiler/1"
DATA_PATH = "aegis/policy/data.json"
META_PATH = "aegis/meta/data.json"
MANIFEST_PATH = ".manifest"
REGO_PREFIX = "rego/"
ROOTS = ("aegis", "system/log")  # system/log: the decision-log mask (rego/log_mask.rego)


@dataclasses.dataclass(frozen=True)
class BundleInfo:
    """The bundle written: its revision (also in .manifest) and where it is."""

    revision: str
    path: Path


def build_bundle(
    policy_path: Path, out_path: Path, *, known_tools: Collection[str] | None = None
) -> BundleInfo:
    """Validate `policy_path` and write the OPA bundle to `out_path` (atomically).

    Raises PolicyError for an invalid policy, BundleError when rego/ is missing or the bundle
    cannot be written.

    Example:
        info = build_bundle(Path("policy.yaml"), Path("bundle.tar.gz"))
        info.revision  # '3f1c...' (64 hex digits)
    """
    policy = load_policy(policy_path, known_tools=known_tools)
    files = {DATA_PATH: _json_bytes(policy.to_data()), **_rego_files(rego_dir())}
    revision = bundle_revision(files)
    files[META_PATH] = _json_bytes({"revision": revision})
    files[MANIFEST_PATH] = _json_bytes(_manifest(policy, revision))
    try:
        write_atomically(out_path, _targz(files))
    except OSError as exc:
        raise BundleError(f"cannot write the bundle to {out_path}: {exc.strerror}") from exc
    return BundleInfo(revision=revision, path=out_path)


def bundle_revision(files: Mapping[str, bytes]) -> str:
    """The revision of a bundle whose content files (path -> bytes) are `files`; .manifest and
    aegis/meta/data.json are left out if present."""
    digest = hashlib.sha256()
    hashed = (name for name in files if name not in (MANIFEST_PATH, META_PATH))
    for path in sorted(hashed, key=lambda name: name.encode("utf-8")):
        digest.update(path.encode("utf-8") + b"\0" + hashlib.sha256(files[path]).hexdigest().encode() + b"\n")
    return digest.hexdigest()


def _manifest(policy: Policy, revision: str) -> dict[str, object]:
    return {
        "revision": revision,
        "roots": list(ROOTS),
        "rego_version": 1,
        "metadata": {"source_sha256": policy.source_sha256, "compiler": COMPILER_ID},
    }


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _rego_files(directory: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(directory.rglob("*.rego")):
        if path.name.endswith("_test.rego") or not path.is_file():
            continue
        files[REGO_PREFIX + path.relative_to(directory).as_posix()] = path.read_bytes()
    return files


def _targz(files: Mapping[str, bytes]) -> bytes:
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files, key=lambda name: name.encode("utf-8")):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[name]))
    gz_bytes = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz_bytes, compresslevel=9, mtime=0) as gz:
        gz.write(tar_bytes.getvalue())
    return gz_bytes.getvalue()


def write_atomically(out_path: Path, content: bytes) -> None:
    """Replace `out_path` with `content` in one step (a temporary file renamed over it); raises OSError."""
    directory = out_path.parent
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out_path.name}.", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, out_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
