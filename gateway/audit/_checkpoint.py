"""Signed checkpoints: the chain's head at one moment, signed with Ed25519, kept in the chain and in a
second sink outside it.

A hash chain alone proves order and content, not that nothing was cut from its end or that it was not
re-hashed from some entry on: whoever can write the file can do either. A checkpoint signed with a key
the log's writer holds, and copied to a file elsewhere, anchors the chain: `aegis audit verify
--public-key` finds truncation before it, re-hashing before it and forged checkpoints. Entries after
the last checkpoint are reported as not yet covered, and refused with `--require-covered` (the check
for a log whose gateway stopped cleanly, or a rotated segment).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit._chain import canonical_json
from gateway.errors import ConfigError

DOMAIN = b"aegis-audit-checkpoint/v1\n"  # a signature over a checkpoint can be nothing else


class CheckpointError(Exception):
    """A checkpoint line that cannot be read, or whose signature does not hold."""


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """Entry `seq` has hash `head_hash` and ends at byte `offset` of the log, as signed at `ts`."""

    seq: int
    head_hash: str
    offset: int
    ts: str
    key_id: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        fields = dataclasses.asdict(self)
        del fields["signature"]
        return DOMAIN + canonical_json(fields)

    def line(self) -> bytes:
        return canonical_json(dataclasses.asdict(self)) + b"\n"

    def verify(self, public_key: Ed25519PublicKey) -> None:
        """Raise CheckpointError unless `public_key` signed exactly this checkpoint."""
        if self.key_id != key_id_of(public_key):
            raise CheckpointError(
                f"checkpoint of seq {self.seq} is signed by key {self.key_id}, not this one"
            )
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.signed_bytes())
        except (InvalidSignature, ValueError):
            raise CheckpointError(f"checkpoint of seq {self.seq}: the signature does not verify") from None

    @classmethod
    def parse(cls, raw: bytes) -> Checkpoint:
        try:
            fields = json.loads(raw)
            checkpoint = cls(**fields)
        except (ValueError, TypeError):
            raise CheckpointError("not a checkpoint line") from None
        if not isinstance(checkpoint.seq, int) or not isinstance(checkpoint.offset, int):
            raise CheckpointError("not a checkpoint line")
        return checkpoint


class CheckpointSigner:
    """Signs checkpoints with the gateway's Ed25519 key.

    Example:
        signer = CheckpointSigner.load(Path("/etc/aegis/audit-signing.pem"))
        checkpoint = signer.sign(seq=1000, head_hash="ab...", offset=512000, ts="2026-12-03T01:00:00.000Z")
    """

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key = key.public_key()
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def load(cls, path: Path) -> CheckpointSigner:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"AEGIS_AUDIT_SIGNING_KEY {path}: not a readable PEM private key ({exc})"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"AEGIS_AUDIT_SIGNING_KEY {path}: the key must be Ed25519")
        return cls(key)

    def sign(self, *, seq: int, head_hash: str, offset: int, ts: str) -> Checkpoint:
        unsigned = Checkpoint(seq=seq, head_hash=head_hash, offset=offset, ts=ts, key_id=self.key_id)
        signature = base64.b64encode(self._key.sign(unsigned.signed_bytes())).decode("ascii")
        return dataclasses.replace(unsigned, signature=signature)


def generate_signing_key(path: Path) -> Ed25519PublicKey:
    """Write a new Ed25519 private key to `path` (PEM, mode 0600, never over an existing file)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key.public_key()


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path}: the public key must be Ed25519")
    return key


def key_id_of(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def read_checkpoints(sink: Path) -> list[Checkpoint]:
    """Every checkpoint of the sink, in order; a torn last line (a crash mid-write) is left out."""
    if not sink.exists():
        return []
    lines = sink.read_bytes().split(b"\n")
    return [Checkpoint.parse(line) for line in lines[:-1]]


def latest_checkpoint(sink: Path, key_id: str) -> Checkpoint | None:
    """The latest checkpoint `key_id` signed in the sink, its signature not yet checked. The whole sink is
    read: a line replayed from earlier makes its seqs go backwards, which is refused, and lines of other
    keys (an old key, or one no one trusts) are left out rather than let decide. Raises CheckpointError."""
    latest: Checkpoint | None = None
    for checkpoint in read_checkpoints(sink):
        if checkpoint.key_id != key_id:
            continue
        if latest is not None and checkpoint.seq <= latest.seq:
            raise CheckpointError(
                f"the checkpoint of seq {checkpoint.seq} follows one of seq {latest.seq}: lines were replayed"
            )
        latest = checkpoint
    return latest
