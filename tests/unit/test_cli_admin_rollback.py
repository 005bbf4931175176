"""`aegis rollback TARGET`: a seq or a snapshot id; anything else goes to the gateway, which refuses it in
one line, never a traceback here."""

from __future__ import annotations

from typing import Any

import pytest

from gateway import cli_admin
from gateway.cli import main


class _Recorder:
    def __init__(self) -> None:
        self.bodies: list[Any] = []

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        self.bodies.append(body)
        return {
            "rollback": {
                "repo": "o/r",
                "path": "f",
                "branch": "main",
                "deleted": True,
                "commit": "c",
                "audit_seq": 1,
            }
        }


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("12", {"seq": 12}),
        ("snap_0123456789abcdef", {"snapshot": "snap_0123456789abcdef"}),
        ("²", {"snapshot": "²"}),
        ("١٢", {"snapshot": "١٢"}),
    ],
)
def test_a_rollback_target_is_a_seq_only_in_ascii_digits(
    monkeypatch: pytest.MonkeyPatch, target: str, body: dict[str, Any]
) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(cli_admin, "_client", lambda args: recorder)
    main(["rollback", target])
    assert recorder.bodies == [body]
