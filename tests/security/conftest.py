"""Each security module gets its own simulator, so that its request log proves what reached Gitea, and its
own gateway, run with the module's POLICY."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fuzz.client import UNTHROTTLED, CheckedClient
from tests.processes import Gateway, Simulator, start_gateway, start_simulator


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    simulator = start_simulator(tmp_path_factory.mktemp("security-gitea") / "state")
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def gateway(
    upstream: Simulator,
    tmp_path_factory: pytest.TempPathFactory,
    opa_bin: str,
    request: pytest.FixtureRequest,
) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("security-gw")
    gw = start_gateway(workdir, policy=request.module.POLICY, upstream=upstream, env=UNTHROTTLED)
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def client(gateway: Gateway) -> Iterator[CheckedClient]:
    """A client of the module's `gateway` fixture, checking every answer for 5xx and internals."""
    checked = CheckedClient(gateway)
    yield checked
    checked.close()


@pytest.fixture(scope="module")
def blocking_client(
    upstream: Simulator,
    tmp_path_factory: pytest.TempPathFactory,
    opa_bin: str,
    request: pytest.FixtureRequest,
) -> Iterator[CheckedClient]:
    """A client of a second gateway in front of the module's simulator, run with the module's
    BLOCKING_POLICY (typically its POLICY with `secrets.output: block`)."""
    workdir = tmp_path_factory.mktemp("security-gw-block")
    gw = start_gateway(workdir, policy=request.module.BLOCKING_POLICY, upstream=upstream, env=UNTHROTTLED)
    checked = CheckedClient(gw)
    yield checked
    checked.close()
    gw.stop()
