"""sign_bundle: the real OPA accepts what it signs, refuses what was altered, and agrees with `opa sign`."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from policy_compiler import build_bundle
from policy_compiler._signing import SUPPORTED_ALGORITHMS, SigningError, sign_bundle

from bench._processes import stop
from gateway.demo import EXAMPLE_POLICY
from tests.policy_compiler.opa_run import OPA_TIMEOUT_S, opa_eval, run_opa
from tests.ports import free_port

EXAMPLE = EXAMPLE_POLICY
HMAC_SECRET = b"a shared secret of at least 32 bytes, for HS256"
START_TIMEOUT_S = 30.0
READ_CALL_INPUT = {
    "version": 1,
    "principal": {"id": "ci-bot", "kind": "api_key", "scopes": ["tools:read"], "roles": []},
    "tool": {"name": "get_issue", "capability": "read"},
    "resource": {"repo": "acme/app", "path": None, "ref": None},
    "args": {},
    "context": {"write_mode": False, "time": "2026-11-21T10:00:00Z", "request_id": "r1"},
}


# --- keys and bundles -------------------------------------------------------------------------------


def _write_key_pair(directory: Path, private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "private.pem").write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (directory / "public.pem").write_bytes(
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return directory


@pytest.fixture(scope="session")
def rsa_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with private.pem and public.pem (RSA 2048)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _write_key_pair(tmp_path_factory.mktemp("rsa"), key)


@pytest.fixture(scope="session")
def other_rsa_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _write_key_pair(tmp_path_factory.mktemp("other-rsa"), key)


@pytest.fixture(scope="session")
def ec_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_key_pair(tmp_path_factory.mktemp("ec"), ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return build_bundle(EXAMPLE, tmp_path / "bundle.tar.gz").path


def _contents(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _pack(path: Path, files: Mapping[str, bytes]) -> Path:
    """A .tar.gz holding `files` (name -> bytes), in the given order."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def _token(bundle: Path) -> str:
    signatures = json.loads(_contents(bundle)[".signatures.json"])
    assert list(signatures) == ["signatures"] and len(signatures["signatures"]) == 1, signatures
    return str(signatures["signatures"][0])


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _files(claims: Mapping[str, Any]) -> list[dict[str, str]]:
    return sorted(claims["files"], key=lambda entry: entry["name"])


# --- the real OPA --------------------------------------------------------------------------------------


def _opa_loads(opa: str, bundle: Path, key: Path | str, *flags: str) -> subprocess.CompletedProcess[str]:
    """`opa run` (REPL, stdin closed) on `bundle` with signature verification: 0 once it loaded."""
    return subprocess.run(
        [opa, "run", "--skip-version-check", "--bundle", str(bundle), "--verification-key", str(key), *flags],
        input="data.aegis.policy.format\n",
        capture_output=True,
        text=True,
        timeout=OPA_TIMEOUT_S,
        check=False,
    )


def _refused(completed: subprocess.CompletedProcess[str], reason: str) -> None:
    assert completed.returncode != 0, completed.stdout
    assert reason in completed.stdout + completed.stderr, completed.stdout + completed.stderr


@contextlib.contextmanager
def _opa_server(opa: str, bundle: Path, key: Path, log: Path) -> Iterator[str]:
    """`opa run --server` with signature verification; yields its URL once /health?bundles is 200."""
    url = f"http://127.0.0.1:{free_port()}"
    argv = [opa, "run", "--server", "--skip-version-check", "--addr", url.removeprefix("http://")]
    argv += ["--bundle", str(bundle), "--verification-key", str(key), "--signing-alg", "RS256"]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health?bundles", timeout=2.0).status_code == 200:
                    break
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        yield url
    finally:
        stop(process)


# --- accepted --------------------------------------------------------------------------------------------


def test_signed_bundle_is_served_by_opa_verifying_it(
    opa: str, bundle: Path, rsa_keys: Path, tmp_path: Path
) -> None:
    want = opa_eval(opa, "data.aegis.authz.decision", READ_CALL_INPUT, bundle=bundle)
    sign_bundle(bundle, signing_key=rsa_keys / "private.pem")
    with _opa_server(opa, bundle, rsa_keys / "public.pem", tmp_path / "opa.log") as url:
        response = httpx.post(
            f"{url}/v1/data/aegis/authz/decision", json={"input": READ_CALL_INPUT}, timeout=10.0
        )
    assert response.status_code == 200, response.text
    assert response.json()["result"] == want
    assert set(want) >= {"allow", "reasons"}


def test_signed_bundle_lists_every_file_but_the_signatures(bundle: Path, rsa_keys: Path) -> None:
    before = _contents(bundle)
    sign_bundle(bundle, signing_key=rsa_keys / "private.pem")
    after = _contents(bundle)
    assert after.keys() == {*before, ".signatures.json"}
    assert list(after) == sorted(after)
    assert {name: after[name] for name in before} == before
    token = _token(bundle)
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT"}
    claims = jwt.decode(token, (rsa_keys / "public.pem").read_bytes(), algorithms=["RS256"])
    assert list(claims) == ["files"]
    assert [entry["name"] for entry in claims["files"]] == sorted(before)
    assert {entry["algorithm"] for entry in claims["files"]} == {"SHA-256"}


def _reference_token(opa: str, extracted: Path, key: Path, out: Path) -> str:
    """The JWT that `opa sign` itself writes for the bundle directory `extracted`."""
    reference = run_opa(
        opa, "sign", "--signing-key", str(key), "--bundle", ".", "-o", str(out), cwd=extracted
    )
    assert reference.returncode == 0, reference.stdout + reference.stderr
    token: str = json.loads((out / ".signatures.json").read_text())["signatures"][0]
    return token


def test_payload_matches_opa_sign(opa: str, bundle: Path, rsa_keys: Path, tmp_path: Path) -> None:
    extracted = tmp_path / "extracted"
    with tarfile.open(bundle, "r:gz") as tar:
        tar.extractall(extracted, filter="data")
    theirs = _reference_token(opa, extracted, rsa_keys / "private.pem", tmp_path)
    sign_bundle(bundle, signing_key=rsa_keys / "private.pem")
    assert _files(_claims(_token(bundle))) == _files(_claims(theirs))


# JSON whose canonical form exercises every rule of OPA's structured hash: key order, whitespace,
# numbers kept as written, escapes Go writes differently from the source, U+2028, non-ASCII.
# With a UTF-8 BOM, `opa sign` and the verifier skip it, but OPA cannot load the data: hashes only.
TRICKY_DATA = (
    b'{ "z": [1.0, 1e3, -0, 10000000000000000000001, 0.1e-2],\n'
    b'  "a": {"\\u00e9t\\u00e9": "caf\xc3\xa9 \\u2028 \\u2029 <&> \\/ ",\n'
    b'        "esc": "\\b\\f\\n\\r\\t \\u0001 \\u007f \\"q\\" \\\\",\n'
    b'        "": null, "B": true, "b": false, "\\ud83d\\ude00": "\\ud800"},\n'
    b'  "m": [], "o": {}, "dup": 1, "dup": [2, {"y": 1, "x": 2}]  }\n'
)


@pytest.mark.parametrize(
    ("files", "loadable"),
    [
        pytest.param({"data.json": TRICKY_DATA}, True, id="tricky-data-json"),
        pytest.param({"data.json": b"\xef\xbb\xbf" + TRICKY_DATA}, False, id="utf8-bom"),
        pytest.param(
            {
                ".manifest": b'{"roots": ["x", "y"],\n "revision": "r\\u00e9v"}',
                "x/data.json": b"[]",
                "y/data.json": b'{"level": 3, "name": "just a string"}',
                "y/policy.rego": b"package y\n\nallow := true\n",
                "y/notes.json": b'{"b": 1,   "a": 2}',
            },
            True,
            id="nested-and-unstructured",
        ),
    ],
)
def test_json_hashing_matches_opa(
    opa: str, files: dict[str, bytes], loadable: bool, rsa_keys: Path, tmp_path: Path
) -> None:
    extracted = tmp_path / "extracted"
    for name, content in files.items():
        (extracted / name).parent.mkdir(parents=True, exist_ok=True)
        (extracted / name).write_bytes(content)
    theirs = _reference_token(opa, extracted, rsa_keys / "private.pem", tmp_path)
    bundle = _pack(tmp_path / "bundle.tar.gz", files)
    sign_bundle(bundle, signing_key=rsa_keys / "private.pem")
    assert _files(_claims(_token(bundle))) == _files(_claims(theirs))
    if loadable:
        loaded = _opa_loads(opa, bundle, rsa_keys / "public.pem")
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr


def test_reformatted_json_keeps_its_signature(opa: str, bundle: Path, rsa_keys: Path, tmp_path: Path) -> None:
    """OPA hashes data.json and .manifest on a canonical form: re-indenting them breaks nothing."""
    sign_bundle(bundle, signing_key=rsa_keys / "private.pem")
    files = _contents(bundle)
    for name in ("aegis/policy/data.json", ".manifest"):
        files[name] = json.dumps(json.loads(files[name]), separators=(",", ":")).encode()
    repacked = _pack(tmp_path / "repacked.tar.gz", files)
    loaded = _opa_loads(opa, repacked, rsa_keys / "public.pem")
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr


def test_bundle_built_by_opa_is_signed_too(opa: str, rsa_keys: Path, tmp_path: Path) -> None:
    """`opa build` names entries "/data.json"; OPA verifies them without the leading "/"."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "policy.rego").write_text("package demo\n\nallow := true\n")
    (source / "data.json").write_text('{"demo": {"level": 3}}')
    built = run_opa(opa, "build", "--bundle", str(source), "-o", str(tmp_path / "built.tar.gz"), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    bundle = tmp_path / "built.tar.gz"
    sign_bundle(bundle, signing_key=rsa_keys / "private.pem")
    assert not any(entry["name"].startswith("/") for entry in _claims(_token(bundle))["files"])
    loaded = _opa_loads(opa, bundle, rsa_keys / "public.pem")
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr


def test_hs256_with_a_shared_secret(opa: str, bundle: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(HMAC_SECRET)
    sign_bundle(bundle, signing_key=secret, algorithm="HS256")
    assert jwt.get_unverified_header(_token(bundle))["alg"] == "HS256"
    loaded = _opa_loads(opa, bundle, secret, "--signing-alg", "HS256")
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    wrong = tmp_path / "wrong"
    wrong.write_bytes(HMAC_SECRET.upper())
    _refused(_opa_loads(opa, bundle, wrong, "--signing-alg", "HS256"), "invalid HMAC signature")


def test_es256_with_a_key_id(opa: str, bundle: Path, ec_keys: Path) -> None:
    sign_bundle(bundle, signing_key=ec_keys / "private.pem", algorithm="ES256", key_id="release")
    token = _token(bundle)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "release", "typ": "JWT"}
    assert _claims(token)["keyid"] == "release"
    flags = ("--signing-alg", "ES256", "--verification-key-id", "release")
    loaded = _opa_loads(opa, bundle, ec_keys / "public.pem", *flags)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr


@pytest.mark.parametrize("algorithm", SUPPORTED_ALGORITHMS)
def test_every_supported_algorithm_is_accepted_by_opa(
    opa: str, bundle: Path, rsa_keys: Path, algorithm: str, tmp_path: Path
) -> None:
    if algorithm.startswith("HS"):
        private = public = _write(tmp_path / "secret", HMAC_SECRET + HMAC_SECRET)
    elif algorithm.startswith("ES"):
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[algorithm]
        keys = _write_key_pair(tmp_path / "ec", ec.generate_private_key(curve))
        private, public = keys / "private.pem", keys / "public.pem"
    else:
        private, public = rsa_keys / "private.pem", rsa_keys / "public.pem"
    sign_bundle(bundle, signing_key=private, algorithm=algorithm)
    assert jwt.get_unverified_header(_token(bundle))["alg"] == algorithm
    loaded = _opa_loads(opa, bundle, public, "--signing-alg", algorithm)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr


def test_resigning_replaces_the_signature(
    opa: str, bundle: Path, rsa_keys: Path, other_rsa_keys: Path
) -> None:
    sign_bundle(bundle, signing_key=other_rsa_keys / "private.pem")
    sign_bundle(bundle, signing_key=rsa_keys / "private.pem")
    loaded = _opa_loads(opa, bundle, rsa_keys / "public.pem")
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr


def test_rs256_signing_is_reproducible(bundle: Path, rsa_keys: Path, tmp_path: Path) -> None:
    manifest = _contents(bundle)[".manifest"]
    copy = tmp_path / "elsewhere" / "other-name.tar.gz"
    copy.parent.mkdir()
    shutil.copyfile(bundle, copy)
    sign_bundle(bundle, signing_key=rsa_keys / "private.pem")
    sign_bundle(copy, signing_key=rsa_keys / "private.pem")
    assert bundle.read_bytes() == copy.read_bytes()
    signed = bundle.read_bytes()
    sign_bundle(bundle, signing_key=rsa_keys / "private.pem")
    assert bundle.read_bytes() == signed
    assert _contents(bundle)[".manifest"] == manifest
    assert json.loads(manifest)["revision"] == build_bundle(EXAMPLE, tmp_path / "again.tar.gz").revision
    with tarfile.open(bundle, "r:gz") as tar:
        assert {(m.mtime, m.uid, m.gid, m.mode, m.uname, m.gname) for m in tar} == {(0, 0, 0, 0o644, "", "")}
    assert gzip.decompress(signed)  # a plain gzip stream
    assert signed[4:8] == b"\0\0\0\0"  # gzip header mtime 0


def _rename_first_key(document: bytes) -> bytes:
    """`document` with one byte changed, still valid JSON: the first letter of its first key."""
    at = document.index(b'"') + 1
    return document[:at] + (b"Z" if document[at : at + 1] != b"Z" else b"Y") + document[at + 1 :]


# --- refused -------------------------------------------------------------------------------------------


def test_unsigned_bundle_is_refused(opa: str, bundle: Path, rsa_keys: Path) -> None:
    _refused(_opa_loads(opa, bundle, rsa_keys / "public.pem"), "bundle missing .signatures.json file")


def test_unsigned_bundle_does_not_start_the_server(opa: str, bundle: Path, rsa_keys: Path) -> None:
    argv = [opa, "run", "--server", "--skip-version-check", "--addr", f"127.0.0.1:{free_port()}"]
    argv += ["--bundle", str(bundle), "--verification-key", str(rsa_keys / "public.pem")]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=OPA_TIMEOUT_S, check=False)
    _refused(completed, "bundle missing .signatures.json file")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(
            lambda files: files.update(
                {"aegis/policy/data.json": _rename_first_key(files["aegis/policy/data.json"])}
            ),
            "aegis/policy/data.json: digest mismatch",
            id="one-byte-of-data-json",
        ),
        pytest.param(
            lambda files: files.update({"rego/authz.rego": files["rego/authz.rego"] + b"\n"}),
            "rego/authz.rego: digest mismatch",
            id="one-byte-of-rego",
        ),
        pytest.param(
            lambda files: files.update({"rego/extra.rego": b"package aegis.extra\n"}),
            "file rego/extra.rego not included in bundle signature",
            id="file-added",
        ),
        pytest.param(
            lambda files: files.pop("rego/visible_tools.rego"),
            "rego/visible_tools.rego",
            id="file-removed",
        ),
    ],
)
def test_altered_bundle_is_refused(
    opa: str, bundle: Path, rsa_keys: Path, tmp_path: Path, change: Any, reason: str
) -> None:
    sign_bundle(bundle, signing_key=rsa_keys / "private.pem")
    files = _contents(bundle)
    before = dict(files)
    change(files)
    assert files != before
    altered = _pack(tmp_path / "altered.tar.gz", files)
    _refused(_opa_loads(opa, altered, rsa_keys / "public.pem"), reason)


def test_bundle_signed_with_another_key_is_refused(
    opa: str, bundle: Path, rsa_keys: Path, other_rsa_keys: Path
) -> None:
    sign_bundle(bundle, signing_key=other_rsa_keys / "private.pem")
    _refused(_opa_loads(opa, bundle, rsa_keys / "public.pem"), "failed to verify")


# --- bad inputs ------------------------------------------------------------------------------------------


def _write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("algorithm", "key", "match"),
    [
        pytest.param(
            "none", "rsa", r"^unsupported signing algorithm 'none'; expected one of: ES256, ", id="none"
        ),
        pytest.param("EdDSA", "rsa", r"^unsupported signing algorithm 'EdDSA'", id="eddsa"),
        pytest.param(
            "RS256", "missing", r"^cannot read the signing key .*missing\.pem: No such file", id="missing"
        ),
        pytest.param(
            "RS256", "directory", r"^cannot read the signing key .*: Is a directory$", id="directory"
        ),
        pytest.param(
            "RS256", "garbage", r"^the signing key .*garbage\.pem is not a PEM private key$", id="not-pem"
        ),
        pytest.param(
            "RS256", "public", r"^the signing key .*public\.pem is not a PEM private key$", id="public"
        ),
        pytest.param(
            "RS256", "ec", r"^the signing key .* is not an RSA private key, as RS256 needs$", id="ec-for-rs"
        ),
        pytest.param(
            "ES256", "rsa", r"^the signing key .* is not an EC private key, as ES256 needs$", id="rsa-for-es"
        ),
        pytest.param("ES384", "ec", r"^cannot sign with this key and ES384: .*curve", id="wrong-curve"),
        pytest.param(
            "RS256", "encrypted", r"^the signing key .* is encrypted; give an unencrypted PEM key$", id="enc"
        ),
        pytest.param(
            "RS256", "small-rsa", r"^cannot sign with this key and RS256: The RSA key is 1024 bits", id="1024"
        ),
        pytest.param(
            "HS256",
            "short-secret",
            r"^cannot sign with this key and HS256: The HMAC key is 6 bytes",
            id="short",
        ),
        pytest.param("HS256", "empty", r"^the signing key .*empty is empty$", id="empty-secret"),
    ],
)
def test_bad_key_or_algorithm_raises(
    bundle: Path, rsa_keys: Path, ec_keys: Path, tmp_path: Path, algorithm: str, key: str, match: str
) -> None:
    small = None
    if key == "small-rsa":  # a key too small on purpose: sign_bundle must refuse it
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    keys = {
        "rsa": rsa_keys / "private.pem",
        "ec": ec_keys / "private.pem",
        "public": rsa_keys / "public.pem",
        "missing": tmp_path / "missing.pem",
        "directory": tmp_path,
        "garbage": _write(tmp_path / "garbage.pem", b"-----BEGIN PRIVATE KEY-----\nnot base64\n"),
        "short-secret": _write(tmp_path / "short", b"secret"),
        "empty": _write(tmp_path / "empty", b""),
    }
    if key == "encrypted":
        loaded = serialization.load_pem_private_key((rsa_keys / "private.pem").read_bytes(), password=None)
        encryption = serialization.BestAvailableEncryption(b"passphrase")
        pem = loaded.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        keys["encrypted"] = _write(tmp_path / "encrypted.pem", pem)
    if small is not None:
        keys["small-rsa"] = _write_key_pair(tmp_path / "small", small) / "private.pem"
    before = bundle.read_bytes()
    with pytest.raises(SigningError, match=match):
        sign_bundle(bundle, signing_key=keys[key], algorithm=algorithm)
    assert bundle.read_bytes() == before
    assert sorted(path.name for path in bundle.parent.glob(".bundle.tar.gz.*")) == []


@pytest.mark.parametrize(
    ("content", "match"),
    [
        pytest.param(b"", r"^\S+ is not a bundle: not a readable \.tar\.gz", id="empty-file"),
        pytest.param(b"not a tarball", r"^\S+ is not a bundle: not a readable \.tar\.gz", id="text"),
        pytest.param(
            gzip.compress(b"not a tar" * 100), r"is not a bundle: not a readable \.tar\.gz", id="gzip-only"
        ),
        pytest.param({}, r"^\S+ is not a bundle: it holds no files$", id="no-files"),
        pytest.param(
            {"data.yaml": b"a: 1\n"}, r"^cannot sign data\.yaml: YAML data files are not supported", id="yaml"
        ),
        pytest.param(
            {"x/data.json": b"{'a': 1}"},
            r"^cannot sign x/data\.json: it is not valid UTF-8 JSON",
            id="bad-json",
        ),
        pytest.param({"data.json": b"NaN"}, r"^cannot sign data\.json: it is not valid UTF-8 JSON", id="nan"),
        pytest.param(
            {".manifest": b'{"revision": "\xff"}'},
            r"^cannot sign \.manifest: it is not valid UTF-8 JSON",
            id="latin1",
        ),
        pytest.param(
            {"x/signatures.json": b"{}"},
            r"holds 'x/signatures\.json', which OPA would neither load nor verify",
            id="stray-signatures",
        ),
    ],
)
def test_not_a_bundle_raises(
    rsa_keys: Path, tmp_path: Path, content: bytes | dict[str, bytes], match: str
) -> None:
    path = tmp_path / "bundle.tar.gz"
    if isinstance(content, dict):
        _pack(path, content)
    else:
        path.write_bytes(content)
    with pytest.raises(SigningError, match=match):
        sign_bundle(path, signing_key=rsa_keys / "private.pem")


def test_missing_bundle_raises(rsa_keys: Path, tmp_path: Path) -> None:
    with pytest.raises(SigningError, match=r"^\S+nowhere\.tar\.gz is not a bundle: no such file$"):
        sign_bundle(tmp_path / "nowhere.tar.gz", signing_key=rsa_keys / "private.pem")
    with pytest.raises(SigningError, match=r"^\S+ is not a bundle: it is a directory$"):
        sign_bundle(tmp_path, signing_key=rsa_keys / "private.pem")


def test_symlink_entry_raises(rsa_keys: Path, tmp_path: Path) -> None:
    path = tmp_path / "bundle.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        link = tarfile.TarInfo("data.json")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(SigningError, match=r"is not a bundle: 'data\.json' is not a regular file$"):
        sign_bundle(path, signing_key=rsa_keys / "private.pem")


def test_empty_key_id_raises(bundle: Path, rsa_keys: Path) -> None:
    with pytest.raises(SigningError, match=r"^the key id must not be empty$"):
        sign_bundle(bundle, signing_key=rsa_keys / "private.pem", key_id="")


def test_signing_error_is_a_compiler_error() -> None:
    from policy_compiler import PolicyCompilerError

    assert issubclass(SigningError, PolicyCompilerError)
