"""The environment the managed OPA runs in."""

from __future__ import annotations

from gateway.opa._process import OPA_GOGC, opa_environment


def test_opa_collects_garbage_less_often_than_gos_default() -> None:
    environment = opa_environment({"PATH": "/usr/bin"})
    assert environment == {"PATH": "/usr/bin", "GOGC": OPA_GOGC}
    assert int(OPA_GOGC) > 100


def test_an_operators_gogc_is_kept() -> None:
    assert opa_environment({"GOGC": "150"})["GOGC"] == "150"
