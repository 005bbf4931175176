"""Tool definitions: what each tool is, its schema, and how it runs against Gitea."""

from gateway.tools._registry import BoundTool, ToolRegistry, default_registry
from gateway.tools._spec import ShownFilter, Tool, ToolCall, ToolOutput

__all__ = [
    "BoundTool",
    "ShownFilter",
    "Tool",
    "ToolCall",
    "ToolOutput",
    "ToolRegistry",
    "default_registry",
]
