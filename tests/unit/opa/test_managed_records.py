"""The managed OPA hands every policy to its recorder before it serves: one that cannot be recorded
(archived and audited) never decides anything."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gateway.errors import AuditWriteError
from gateway.observability.metrics import Metrics
from gateway.opa import LoadedPolicy, ManagedSettings, ManagedSource

FIRST = "defaults: {read: allow}\n"
SECOND = "defaults: {read: deny}\n"


class Recorder:
    def __init__(self) -> None:
        self.loaded: list[LoadedPolicy] = []
        self.failing = False

    async def record(self, loaded: LoadedPolicy) -> None:
        if self.failing:
            raise AuditWriteError("the audit log cannot be written")
        self.loaded.append(loaded)


def source(tmp_path: Path, opa_bin: str, recorder: Recorder) -> ManagedSource:
    policy = tmp_path / "team-policy.yaml"
    policy.write_text(FIRST)
    workdir = tmp_path / "work"
    workdir.mkdir()
    settings = ManagedSettings(opa_bin=opa_bin, policy_path=policy, policy_reload_s=0, opa_timeout_s=5)
    return ManagedSource(settings=settings, metrics=Metrics.create(), workdir=workdir, recorder=recorder)


async def test_each_policy_is_recorded_with_the_yaml_that_was_compiled(tmp_path: Path, opa_bin: str) -> None:
    recorder = Recorder()
    managed = source(tmp_path, opa_bin, recorder)
    await managed.start()
    try:
        (tmp_path / "team-policy.yaml").write_text(SECOND)
        assert await managed.reload_if_changed() is True
    finally:
        await managed.stop()
    first, second = recorder.loaded
    assert (first.cause, first.previous_revision, first.source) == ("start", None, FIRST.encode())
    assert (second.cause, second.previous_revision, second.source) == (
        "reload",
        first.revision,
        SECOND.encode(),
    )
    assert second.revision == managed.revision != first.revision
    assert second.source_sha256 == hashlib.sha256(SECOND.encode()).hexdigest()
    assert second.bundle.startswith(b"\x1f\x8b")  # the gzip of the bundle that serves


async def test_a_policy_that_cannot_be_recorded_never_serves(tmp_path: Path, opa_bin: str) -> None:
    recorder = Recorder()
    managed = source(tmp_path, opa_bin, recorder)
    await managed.start()
    try:
        served = managed.revision
        recorder.failing = True
        (tmp_path / "team-policy.yaml").write_text(SECOND)
        assert await managed.reload_if_changed() is False
        assert managed.revision == served
        decision = await managed.decide(
            {
                "version": 1,
                "principal": {"id": "a", "kind": "api_key", "scopes": ["tools:read"], "roles": []},
                "tool": {"name": "get_file_contents", "capability": "read"},
                "resource": {"repo": "acme/app", "path": "README.md", "ref": None},
                "args": {},
                "context": {"write_mode": False, "time": "2026-12-03T00:00:00.000000Z"},
            }
        )
        assert decision.allow is True and decision.revision == served  # the first policy still decides
    finally:
        await managed.stop()


async def test_a_first_policy_that_cannot_be_recorded_stops_the_start(tmp_path: Path, opa_bin: str) -> None:
    recorder = Recorder()
    recorder.failing = True
    managed = source(tmp_path, opa_bin, recorder)
    with pytest.raises(AuditWriteError):
        await managed.start()
    assert not list((tmp_path / "work").glob("generation-*"))  # its OPA was shut and its files removed
