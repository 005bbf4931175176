"""The circuit breaker around Gitea: opens on repeated failures, fails fast, recovers by one trial."""

from __future__ import annotations

import pytest

from gateway.errors import UpstreamError
from gateway.gitea import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fail(breaker: CircuitBreaker, kind: str = "unavailable") -> None:
    with pytest.raises(UpstreamError), breaker.guard():
        raise UpstreamError(kind)


def succeed(breaker: CircuitBreaker) -> None:
    with breaker.guard():
        pass


def make(clock: Clock, changes: list[bool] | None = None) -> CircuitBreaker:
    record = changes.append if changes is not None else (lambda is_open: None)
    return CircuitBreaker(failure_threshold=3, cooldown_s=10, clock=clock, on_change=record)


def test_opens_after_consecutive_failures_and_then_fails_fast() -> None:
    changes: list[bool] = []
    breaker = make(Clock(), changes)
    for _ in range(3):
        fail(breaker)
    assert breaker.is_open and changes == [True]
    with pytest.raises(UpstreamError, match="circuit_open"), breaker.guard():
        pytest.fail("a call ran through an open circuit")


def test_a_success_resets_the_count_of_failures() -> None:
    breaker = make(Clock())
    fail(breaker)
    fail(breaker)
    succeed(breaker)
    fail(breaker)
    fail(breaker)
    assert not breaker.is_open


@pytest.mark.parametrize("kind", ["not_found", "forbidden", "rejected", "too_large", "malformed"])
def test_answers_of_a_healthy_gitea_do_not_count(kind: str) -> None:
    breaker = make(Clock())
    for _ in range(5):
        fail(breaker, kind)
    assert not breaker.is_open


def test_after_the_cooldown_one_trial_passes_and_its_success_closes() -> None:
    clock = Clock()
    changes: list[bool] = []
    breaker = make(clock, changes)
    for _ in range(3):
        fail(breaker, "timeout")
    clock.now = 10.0
    # while the trial runs (the outer guard), other calls still fail fast
    with breaker.guard(), pytest.raises(UpstreamError, match="circuit_open"), breaker.guard():
        pass
    assert not breaker.is_open and changes == [True, False]


def test_a_failed_trial_opens_the_circuit_for_another_cooldown() -> None:
    clock = Clock()
    breaker = make(clock)
    for _ in range(3):
        fail(breaker)
    clock.now = 10.0
    fail(breaker)
    clock.now = 15.0
    with pytest.raises(UpstreamError, match="circuit_open"), breaker.guard():
        pass


def test_a_cancelled_trial_frees_the_trial_slot() -> None:
    clock = Clock()
    breaker = make(clock)
    for _ in range(3):
        fail(breaker)
    clock.now = 10.0
    with pytest.raises(KeyboardInterrupt), breaker.guard():
        raise KeyboardInterrupt
    succeed(breaker)  # a new trial is admitted
    assert not breaker.is_open


def test_a_local_shortage_during_the_trial_neither_closes_nor_holds_the_circuit() -> None:
    clock = Clock()
    breaker = make(clock)
    for _ in range(3):
        fail(breaker)
    clock.now = 10.0
    fail(breaker, "gateway_overloaded")
    assert breaker.is_open  # no verdict on Gitea: still open
    succeed(breaker)  # and the trial slot is free again
    assert not breaker.is_open


def test_local_shortages_neither_count_nor_reset_the_failures() -> None:
    breaker = make(Clock())
    fail(breaker)
    fail(breaker)
    for _ in range(5):
        fail(breaker, "gateway_overloaded")
    assert not breaker.is_open
    fail(breaker)
    assert breaker.is_open
