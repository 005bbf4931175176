"""The tool declarations agree with what the tools do."""

from __future__ import annotations

import inspect

import pytest

from gateway.tools import Tool, default_registry

TOOLS = [bound.tool for bound in default_registry()]


@pytest.mark.parametrize("tool", TOOLS, ids=[tool.name for tool in TOOLS])
def test_shows_paths_marks_exactly_the_tools_that_filter_their_result_by_path(tool: Tool) -> None:
    assert ("call.paths" in inspect.getsource(tool.run)) == tool.shows_paths
