"""Outbound sanitization of tool results: secret masking (or blocking), invisible-character stripping,
size bounds, and marking repository content as untrusted data. Pure functions, no I/O.

    result = sanitize_output(output.structured, output.text, mode="mask")
    if result.blocked:
        ...  # mode "block": return an error instead of the result
    text = mark_untrusted(result.text, nonce=secrets.token_hex(16))
"""

from gateway.sanitize._bounds import DEFAULT_MAX_BYTES, DEFAULT_MAX_ITEMS, TRUNCATION_SUMMARY_KEY
from gateway.sanitize._content import (
    Binary,
    Clip,
    LocatedSecret,
    ScannedText,
    ascii_secret_kinds,
    locate_secrets,
    scan_text,
)
from gateway.sanitize._detectors import SECRET_KINDS
from gateway.sanitize._output import Finding, Sanitized, SecretMode, sanitize_output, scan_size
from gateway.sanitize._untrusted import mark_untrusted

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ITEMS",
    "SECRET_KINDS",
    "TRUNCATION_SUMMARY_KEY",
    "Binary",
    "Clip",
    "Finding",
    "LocatedSecret",
    "Sanitized",
    "ScannedText",
    "SecretMode",
    "ascii_secret_kinds",
    "locate_secrets",
    "mark_untrusted",
    "sanitize_output",
    "scan_size",
    "scan_text",
]
