"""Running the OPA binary: an error that says how to point the gateway at one."""

from __future__ import annotations

import errno

from gateway.errors import OpaError


def cannot_run(opa_bin: str, exc: OSError) -> OpaError:
    """The error for an OPA that would not start; a missing binary names the setting that fixes it."""
    hint = (
        "; set AEGIS_OPA_BIN to an OPA binary (./scripts/setup builds the pinned one into .tools/bin)"
        if exc.errno in (errno.ENOENT, errno.EACCES)
        else ""
    )
    return OpaError(f"cannot run OPA ({opa_bin}): {exc.strerror}{hint}")
