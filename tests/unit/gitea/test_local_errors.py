"""A shortage of the gateway's own (no file descriptor, no memory, no buffer for a socket) is not a Gitea
failure: it must not open the circuit and blame Gitea for a local problem, while a refused connection
still counts."""

from __future__ import annotations

import errno
from typing import Any

import aiohappyeyeballs
import pytest

from gateway.errors import UpstreamError
from gateway.gitea import CircuitBreaker, GiteaClient
from tests.ports import free_port


def client_of(url: str, breaker: CircuitBreaker) -> GiteaClient:
    return GiteaClient(base_url=url, token=None, timeout_s=2, breaker=breaker)


async def failures(gitea: GiteaClient, calls: int) -> list[str]:
    kinds = []
    for _ in range(calls):
        with pytest.raises(UpstreamError) as failed:
            await gitea.get_json("/api/v1/version")
        kinds.append(failed.value.kind)
    return kinds


@pytest.mark.parametrize("code", [errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS])
async def test_a_local_resource_error_does_not_open_the_circuit(
    monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    async def no_socket(**kwargs: Any) -> None:
        raise OSError(code, "local shortage")

    monkeypatch.setattr(aiohappyeyeballs, "start_connection", no_socket)
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=60)
    gitea = client_of(f"http://127.0.0.1:{free_port()}", breaker)
    try:
        assert await failures(gitea, 4) == ["gateway_overloaded"] * 4
    finally:
        await gitea.aclose()
    assert not breaker.is_open


async def test_a_refused_connection_still_opens_the_circuit() -> None:
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=60)
    gitea = client_of(f"http://127.0.0.1:{free_port()}", breaker)  # nothing listens there
    try:
        assert await failures(gitea, 3) == ["unavailable", "unavailable", "circuit_open"]
    finally:
        await gitea.aclose()
    assert breaker.is_open
