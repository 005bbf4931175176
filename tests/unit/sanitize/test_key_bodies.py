"""A private key's body where its BEGIN line is not in view, in the layouts keys live in: diff hunks,
indented YAML, code strings, the lines above an END line; and what is left alone: certificates below their
BEGIN line, lists of hashes, single lines. The detector's time stays linear whatever precedes the runs."""

from __future__ import annotations

import time

import pytest

from gateway.sanitize._anchors import AnchoredScan
from gateway.sanitize._detectors import ANCHORS
from gateway.sanitize._key_bodies import key_bodies
from gateway.sanitize._secrets import mask_secrets

BODY = [f"MIIEowIBAAKCAQEA{index:03d}R4c0Vh7b2kQy8tXq1s9Lm3Wn5Pd7Rf2Gh4Jk6Lp8Qr0St2U" for index in range(12)]


def leaked(text: str) -> list[str]:
    masked, kinds = mask_secrets(text)
    assert kinds, "nothing masked"
    return [line for line in BODY if line in masked]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "@@ -5,7 +5,7 @@ tls.key: |\n"
            + "".join(f"     {line}\n" for line in BODY[3:6])
            + f"-    {BODY[6]}\n+    ZZ{BODY[6][2:]}\n"
            + "".join(f"     {line}\n" for line in BODY[7:10]),
            id="indented-yaml-in-a-hunk",
        ),
        pytest.param("".join(f'    "{line}\\n" +\n' for line in BODY[:4]), id="java-string"),
        pytest.param("".join(f"# {line}\n" for line in BODY[:3]), id="commented"),
        pytest.param(
            f"-{BODY[0]}\n-{BODY[1]}\n\\ No newline at end of file\n+{BODY[2]}\n", id="no-newline-marker"
        ),
        pytest.param(
            f"@@ -1,3 +1,3 @@\n {BODY[0]}\n-AwEHoUQDQgAE==\n -----END EC PRIVATE KEY-----\n", id="above-end"
        ),
        pytest.param(
            "message: -----BEGIN CERTIFICATE----- is mentioned here\n\n" + "\n".join(BODY[:4]) + "\n",
            id="public-begin-far-above",
        ),
        pytest.param(
            f"-----BEGIN CERTIFICATE-----\n{'MIIC' * 16}\n-----END CERTIFICATE-----\n\n"
            f"{BODY[1]}\n{BODY[2]}\n",
            id="after-a-closed-certificate",
        ),
    ],
)
def test_key_lines_are_masked_wherever_they_show(text: str) -> None:
    assert leaked(text) == []


def test_the_masked_body_keeps_its_line_count() -> None:
    text = "x\n" + "\n".join(BODY[:5]) + "\nAB==\ny\n"
    assert mask_secrets(text)[0] == "x\n[REDACTED:private_key]" + "\n" * 6 + "y\n"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "-----BEGIN CERTIFICATE-----\n" + "\n".join(BODY) + "\nAB==\n-----END CERTIFICATE-----\n",
            id="cert",
        ),
        pytest.param(
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\nVersion: 1\n\n" + "\n".join(BODY[:4]) + "\n=AbCd\n",
            id="pgp-key",
        ),
        pytest.param(
            "hashes = [\n" + "".join(f'    "{"ab12" * 16}",\n' for _ in range(5)) + "]\n", id="hex-sums"
        ),
        pytest.param(BODY[0] + "\nshort\n", id="one-line"),
        pytest.param("The quick brown fox jumps over the lazy dog.\n" * 20, id="prose"),
    ],
)
def test_public_blocks_hashes_and_single_lines_are_kept(text: str) -> None:
    assert list(key_bodies(AnchoredScan(text, ANCHORS))) == []


@pytest.mark.parametrize(
    "prefix", ["", "BEGIN x\n", "-----BEGIN CERTIFICATE-----\n", "-----END RSA PRIVATE KEY-----\n"]
)
def test_time_stays_linear_whatever_precedes_the_runs(prefix: str) -> None:
    """Many runs after one distant marker: a look back to the marker from every run is quadratic."""
    group = "\n".join(BODY[:3]) + "\nAB==\n\n-----END RSA PRIVATE KEY-----\nx\n"

    def seconds(size: int) -> float:
        """The least of three runs: a busy machine only ever adds time (quadratic time would not go)."""
        text = prefix + group * (size // len(group))
        runs = []
        for _ in range(3):
            started = time.process_time()
            assert list(key_bodies(AnchoredScan(text, ANCHORS)))
            runs.append(time.process_time() - started)
        return min(runs)

    small, large = seconds(1 << 16), seconds(1 << 19)
    assert large < 8 * 4 * max(small, 1e-3)  # eight times the text: about eight times the time
