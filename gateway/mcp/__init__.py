"""MCP over streamable HTTP (JSON responses): framing, versions, dispatch. No policy here."""

from gateway.mcp._endpoint import McpEndpoint
from gateway.mcp._handler import ToolHandler
from gateway.mcp._jsonrpc import JsonRpcError, error_body, strict_loads
from gateway.mcp._protocol import SUPPORTED_VERSIONS

__all__ = ["SUPPORTED_VERSIONS", "JsonRpcError", "McpEndpoint", "ToolHandler", "error_body", "strict_loads"]
