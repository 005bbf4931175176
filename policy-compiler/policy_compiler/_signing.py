"""sign_bundle: add an OPA `.signatures.json` to a bundle .tar.gz, as `opa sign` would.

The signature is one JWT, `{"signatures": ["<JWT>"]}`, whose payload lists every file of the bundle
(`.manifest` included, `.signatures.json` excluded) with its SHA-256:

    {"files": [{"name": ".manifest", "hash": "<hex>", "algorithm": "SHA-256"}, ...]}

and, when a key id is given, `"keyid"` in the payload and `"kid"` in the header (as OPA's signer does).
OPA checks the JWT with its verification key, then that the bundle's files and the listed files are the
same set with the same hashes.

The hash of a file follows OPA's verifier (v1/bundle/verify.go, hash.go; "Signature Format" in the
OPA docs, management-bundles): a file whose base name is `data.json` or `.manifest` is parsed as
JSON (a UTF-8 BOM skipped) and hashed in a canonical form: an object as `{`, its keys in ascending
order each as `"key":value` separated by `,`, then `}`; an array as `[`, items separated by `,`, `]`;
strings as Go's encoding/json writes them without HTML escaping; numbers as written in the file
(`1.0` stays `1.0`). Whitespace and key order therefore do not change the hash. Every other file
(`.rego`, other `.json`) is hashed on its bytes. `data.yaml` (which OPA converts from YAML) is refused.

The archive is rewritten like build_bundle writes one: entries sorted, owners, modes and times
fixed, gzip without name or time. RS256, RS384, RS512 and the HMAC algorithms are deterministic, so
signing the same bundle with the same key twice gives the same bytes. ES* and PS* signatures are
randomized by design: the signed archive is valid each time but differs in the signature.

Example:
    from pathlib import Path
    from policy_compiler import build_bundle
    from policy_compiler._signing import sign_bundle

    info = build_bundle(Path("policy.yaml"), Path("bundle.tar.gz"))
    sign_bundle(info.path, signing_key=Path("private.pem"))  # RS256
    # opa run --server --bundle bundle.tar.gz --verification-key public.pem
    sign_bundle(info.path, signing_key=Path("secret.txt"), algorithm="HS256", key_id="ci")
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import tarfile
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from policy_compiler._bundle import _targz, write_atomically
from policy_compiler._errors import PolicyCompilerError

__all__ = ["SIGNATURES_PATH", "SUPPORTED_ALGORITHMS", "SigningError", "sign_bundle"]

SIGNATURES_PATH = ".signatures.json"
HASH_ALGORITHM = "SHA-256"
SUPPORTED_ALGORITHMS = (
    "ES256",
    "ES384",
    "ES512",
    "HS256",
    "HS384",
    "HS512",
    "PS256",
    "PS384",
    "PS512",
    "RS256",
    "RS384",
    "RS512",
)
# OPA parses files with these base names as JSON before hashing them (bundle.IsStructuredDoc).
_STRUCTURED_NAMES = frozenset({"data.json", ".manifest"})
_YAML_DATA_NAME = "data.yaml"
# OPA's reader skips, and its signer leaves out, every file whose path ends with this.
_SIGNATURES_SUFFIX = "signatures.json"
_UTF8_BOM = b"\xef\xbb\xbf"
_SURROGATE = re.compile("[\ud800-\udfff]")


class SigningError(PolicyCompilerError):
    """The bundle could not be signed: unreadable or unsuitable key, unknown algorithm, not a bundle."""


def sign_bundle(
    bundle: Path, *, signing_key: Path, algorithm: str = "RS256", key_id: str | None = None
) -> None:
    """Sign the bundle .tar.gz at `bundle` in place, adding (or replacing) its `.signatures.json`.

    `signing_key` is a PEM private key (RSA for RS*/PS*, EC on the matching curve for ES*) or, for
    HS*, a file whose whole content (bytes as they are, newline included) is the shared secret, as
    OPA reads a `--signing-key`/`--verification-key` file. Keys shorter than the algorithm's minimum
    (2048-bit RSA, an HMAC secret as long as the digest) are refused. `key_id` sets the JWT `kid`;
    OPA only uses it when no key id is configured on its side (`--verification-key-id` defaults
    to "default"). Raises SigningError.

    Example:
        sign_bundle(Path("bundle.tar.gz"), signing_key=Path("private.pem"))
    """
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise SigningError(
            f"unsupported signing algorithm {algorithm!r}; expected one of: {', '.join(SUPPORTED_ALGORITHMS)}"
        )
    if key_id is not None and not key_id:
        raise SigningError("the key id must not be empty")
    key = _load_key(signing_key, algorithm)
    files = _read_bundle(bundle)
    payload = _payload(files, key_id)
    files[SIGNATURES_PATH] = _signatures_json(_token(payload, key, algorithm, key_id))
    try:
        write_atomically(bundle, _targz(files))
    except OSError as exc:
        raise SigningError(f"cannot write the signed bundle to {bundle}: {exc.strerror}") from exc


def _file_hash(name: str, content: bytes) -> str:
    """The SHA-256 (hex) OPA expects for the bundle file `name` (no leading "/") holding `content`."""
    base = PurePosixPath(name).name
    if base == _YAML_DATA_NAME:
        raise SigningError(f"cannot sign {name}: YAML data files are not supported, use data.json")
    if base not in _STRUCTURED_NAMES:
        return hashlib.sha256(content).hexdigest()
    value = _parse_json(name, content)
    return hashlib.sha256(_canonical(value).encode("utf-8")).hexdigest()


class _Number(str):
    """A JSON number kept as written: OPA decodes numbers as json.Number and hashes their text."""


def _parse_json(name: str, content: bytes) -> Any:
    if content.startswith(_UTF8_BOM):
        content = content[len(_UTF8_BOM) :]
    try:
        return json.loads(
            content.decode("utf-8"),
            parse_int=_Number,
            parse_float=_Number,
            parse_constant=_reject_constant,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise SigningError(f"cannot sign {name}: it is not valid UTF-8 JSON ({exc})") from exc


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _canonical(value: Any) -> str:
    """The text OPA hashes for a decoded JSON value (bundle/hash.go `walk`)."""
    if isinstance(value, dict):
        # Go decodes into a map: keys with lone surrogates become U+FFFD, the last duplicate wins.
        members = {_SURROGATE.sub("\ufffd", key): item for key, item in value.items()}
        keys = sorted(members, key=lambda key: key.encode("utf-8"))
        return "{" + ",".join(f"{_go_string(key)}:{_canonical(members[key])}" for key in keys) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    if isinstance(value, _Number):
        return str.__str__(value)
    if isinstance(value, str):
        return _go_string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    raise TypeError(f"unexpected JSON value {value!r}")  # pragma: no cover - json.loads yields no other


def _go_string(text: str) -> str:
    """`text` as Go's encoding/json encodes it with SetEscapeHTML(false).

    Go decodes a lone surrogate escape to U+FFFD, escapes U+2028 and U+2029, and otherwise escapes
    what Python's json.dumps(ensure_ascii=False) escapes (Go 1.22+ writes \\b and \\f too).
    """
    text = _SURROGATE.sub("\ufffd", text)
    encoded = json.dumps(text, ensure_ascii=False)
    return encoded.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _sorted_utf8(names: Mapping[str, object]) -> list[str]:
    return sorted(names, key=lambda name: name.encode("utf-8"))


def _payload(files: Mapping[str, bytes], key_id: str | None) -> bytes:
    listed = []
    for entry in _sorted_utf8(files):
        name = _signed_name(entry)
        listed.append({"name": name, "hash": _file_hash(name, files[entry]), "algorithm": HASH_ALGORITHM})
    payload: dict[str, object] = {"files": listed}  # keys in the order Go's json.Marshal writes them
    if key_id is not None:
        payload["keyid"] = key_id  # deprecated claim, still written by OPA's signer
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _signed_name(entry: str) -> str:
    """The name OPA verifies for the archive entry `entry`: the entry name without a leading "/"."""
    return entry.removeprefix("/")


def _token(
    payload: bytes, key: RSAPrivateKey | EllipticCurvePrivateKey | bytes, algorithm: str, key_id: str | None
) -> str:
    headers = {"kid": key_id} if key_id is not None else None
    signer = jwt.PyJWS(algorithms=[algorithm], options={"enforce_minimum_key_length": True})
    try:
        return signer.encode(payload, key, algorithm=algorithm, headers=headers)
    except jwt.PyJWTError as exc:
        raise SigningError(f"cannot sign with this key and {algorithm}: {exc}") from exc


def _signatures_json(token: str) -> bytes:
    return (json.dumps({"signatures": [token]}, indent=2) + "\n").encode("utf-8")


def _load_key(path: Path, algorithm: str) -> RSAPrivateKey | EllipticCurvePrivateKey | bytes:
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the signing key {path}: {exc.strerror}") from exc
    if algorithm.startswith("HS"):
        if not content:
            raise SigningError(f"the signing key {path} is empty")
        return content
    try:
        key = load_pem_private_key(content, password=None)
    except TypeError as exc:
        raise SigningError(f"the signing key {path} is encrypted; give an unencrypted PEM key") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningError(f"the signing key {path} is not a PEM private key") from exc
    wanted: type[RSAPrivateKey | EllipticCurvePrivateKey]
    wanted, kind = (EllipticCurvePrivateKey, "EC") if algorithm.startswith("ES") else (RSAPrivateKey, "RSA")
    if not isinstance(key, wanted):
        raise SigningError(f"the signing key {path} is not an {kind} private key, as {algorithm} needs")
    return key


def _read_bundle(bundle: Path) -> dict[str, bytes]:
    """Every regular file of the bundle, by entry name, but any existing signatures file."""
    files: dict[str, bytes] = {}
    signed_names: set[str] = set()
    try:
        with tarfile.open(bundle, mode="r:gz") as tar:
            for member in tar:
                if member.isdir():
                    continue
                if not member.isfile():
                    raise SigningError(f"{bundle} is not a bundle: {member.name!r} is not a regular file")
                name = _signed_name(member.name)
                if name.endswith(_SIGNATURES_SUFFIX):
                    if name != SIGNATURES_PATH:
                        raise SigningError(
                            f"{bundle} holds {member.name!r}, which OPA would neither load nor verify"
                        )
                    continue
                if name in signed_names:
                    raise SigningError(f"{bundle} is not a bundle: {name!r} appears twice")
                signed_names.add(name)
                stream = tar.extractfile(member)
                if stream is None:  # pragma: no cover - a regular file always has content
                    raise SigningError(f"{bundle} is not a bundle: cannot read {member.name!r}")
                files[member.name] = stream.read()
    except FileNotFoundError as exc:
        raise SigningError(f"{bundle} is not a bundle: no such file") from exc
    except IsADirectoryError as exc:
        raise SigningError(f"{bundle} is not a bundle: it is a directory") from exc
    except (tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise SigningError(f"{bundle} is not a bundle: not a readable .tar.gz ({exc})") from exc
    except OSError as exc:
        raise SigningError(f"cannot read the bundle {bundle}: {exc.strerror or exc}") from exc
    if not files:
        raise SigningError(f"{bundle} is not a bundle: it holds no files")
    return files
