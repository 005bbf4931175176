"""Tool definitions: what each tool is, its schema, and how it runs against Gitea."""

from gateway.tools._registry import BoundTool, ToolRegistry, default_registry
from gateway.tools._spec import CONTENT_ARGUMENTS, ShownFilter, Tool, ToolCall, ToolOutput

__all__ = [
    "CONTENT_ARGUMENTS",
    "BoundTool",
    "ShownFilter",
    "Tool",
    "ToolCall",
    "ToolOutput",
    "ToolRegistry",
    "default_registry",
]
