"""One gateway per fuzz module, with its own simulator, and every throttle opened wide."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fuzz.client import UNTHROTTLED
from tests.processes import SECRETS_DENIED_POLICY, Gateway, Simulator, start_gateway, start_simulator

POLICY = SECRETS_DENIED_POLICY
# Without the audit's fsync: it would measure the disk, not the parser.
FUZZ_ENV = {**UNTHROTTLED, "AEGIS_AUDIT_FSYNC": "false"}


@pytest.fixture(scope="module")
def fuzz_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    simulator = start_simulator(tmp_path_factory.mktemp("fuzz-gitea") / "state")
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def fuzz_gateway(
    fuzz_upstream: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    gateway = start_gateway(
        tmp_path_factory.mktemp("fuzz-gw"), policy=POLICY, upstream=fuzz_upstream, env=FUZZ_ENV
    )
    yield gateway
    gateway.stop()
