"""Sanitizing a large result runs off the event loop, whatever makes it large: a file, or many long texts
each scanned whole before it is cut (a page of commit messages)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import gateway.core.service
from gateway.core.results import Presented
from gateway.sanitize import Clip
from gateway.tools import Tool, ToolCall, ToolOutput
from tests.unit.core.harness import READER, context, service_over
from tests.unit.core.test_shown import PathRules


def messages_tool(count: int, length: int) -> Tool:
    async def list_messages(call: ToolCall) -> ToolOutput:
        return ToolOutput({"messages": [Clip("m" * length, 4000) for _ in range(count)]})

    return Tool(
        name="list_messages",
        title="List",
        description="Lists long messages.",
        capability="read",
        run=list_messages,
        repo_scoped=False,
    )


@pytest.mark.parametrize(("count", "length", "off_loop"), [(50, 20_000, True), (3, 100, False)])
async def test_the_scan_runs_off_the_loop_when_the_result_is_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, length: int, off_loop: bool
) -> None:
    threads: list[threading.Thread] = []
    present = gateway.core.service.present

    def recording_present(*args: Any, **kwargs: Any) -> Presented:
        threads.append(threading.current_thread())
        return present(*args, **kwargs)

    monkeypatch.setattr(gateway.core.service, "present", recording_present)
    async with service_over(tmp_path, messages_tool(count, length), PathRules()) as service:
        result = await service.call_tool(context(READER, "r1"), "list_messages", {})
    assert result["isError"] is False and len(result["structuredContent"]["messages"]) == count
    assert [thread is threading.main_thread() for thread in threads] == [not off_loop]
