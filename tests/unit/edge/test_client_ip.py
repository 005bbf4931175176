"""Which clients share a budget."""

from __future__ import annotations

import pytest

from gateway.edge._client_ip import UNKNOWN_CLIENT, budget_subject_of


@pytest.mark.parametrize(
    ("client", "subject"),
    [
        pytest.param(("10.0.0.7", 5000), "10.0.0.7", id="ipv4"),
        pytest.param(("2001:db8:1:2:aaaa::1", 5000), "2001:db8:1:2::/64", id="ipv6-shares-its-64"),
        pytest.param(("2001:db8:1:2:ffff::9", 5000), "2001:db8:1:2::/64", id="ipv6-same-64"),
        pytest.param(("::ffff:10.0.0.7", 5000), "10.0.0.7", id="ipv4-mapped"),
        pytest.param(None, UNKNOWN_CLIENT, id="no-peer"),
    ],
)
def test_budget_subject(client: tuple[str, int] | None, subject: str) -> None:
    assert budget_subject_of({"type": "http", "client": client}) == subject
