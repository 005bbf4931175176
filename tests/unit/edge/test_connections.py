"""Connections per client address: counted by budget subject, refused at the cap, given back on close."""

from __future__ import annotations

from gateway.edge.connections import ConnectionsPerAddress


def test_an_address_at_the_cap_is_refused_until_one_of_its_connections_closes() -> None:
    per_address = ConnectionsPerAddress(2)
    assert [per_address.acquire("127.0.0.1") for _ in range(3)] == [True, True, False]
    assert per_address.acquire("127.0.0.2")  # another address has a cap of its own
    per_address.release("127.0.0.1")
    assert per_address.acquire("127.0.0.1")
    assert not per_address.acquire("127.0.0.1")
