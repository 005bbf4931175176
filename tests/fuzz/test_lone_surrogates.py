"""Lone surrogates anywhere in a message (a `\\ud800` escape, or its UTF-8 style bytes): the gateway answers
them like any other malformed input, with a parse error, and never a 500 or a stack trace.

A module of its own, with its own gateway, so that a regression shows here rather than as stack traces in
the log that test_mcp_http_fuzz.py checks.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.client import CheckedClient
from tests.fuzz.strategies import ToolSample, bodies_with_a_lone_surrogate
from tests.processes import Gateway

pytestmark = pytest.mark.e2e

SAMPLES = st.sampled_from(
    [
        ToolSample(
            "get_file_contents", {"owner": "acme", "repo": "app", "filepath": "README.md", "ref": "main"}
        ),
        ToolSample("list_issues", {"owner": "acme", "repo": "app", "labels": ["bug"]}),
        ToolSample("list_repositories", {"query": "app"}),
    ]
)


@pytest.fixture(scope="module")
def client(fuzz_gateway: Gateway) -> Iterator[CheckedClient]:
    checked = CheckedClient(fuzz_gateway)
    yield checked
    checked.close()


@settings(
    max_examples=150,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(body=bodies_with_a_lone_surrogate(SAMPLES))
def test_lone_surrogates_are_refused_like_any_malformed_input(client: CheckedClient, body: bytes) -> None:
    reply = client.post(body, kind="lone surrogate")
    assert reply.status == 400 and reply.json()["error"]["code"] == -32700, reply


def test_the_gateway_survived_lone_surrogates(fuzz_gateway: Gateway) -> None:
    assert fuzz_gateway.process.poll() is None
    assert httpx.get(f"{fuzz_gateway.base_url}/healthz", timeout=5).json() == {"status": "ok"}
