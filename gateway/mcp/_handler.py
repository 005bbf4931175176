"""What the MCP layer needs from the core: list tools and call one, for an authenticated caller."""

from __future__ import annotations

from typing import Any, Protocol

from gateway.vocabulary import CallContext, HeldForApproval


class ToolHandler(Protocol):
    async def list_tools(self, context: CallContext) -> list[dict[str, Any]]: ...

    async def call_tool(
        self, context: CallContext, name: Any, arguments: Any
    ) -> dict[str, Any] | HeldForApproval:
        """Return an MCP CallToolResult, or the call held for approval; raise MalformedToolCall for a
        malformed call or an unknown tool, InvalidRequestState for a retry whose state does not verify,
        and InvalidToolCall for bad arguments. `name` and `arguments` arrive exactly as the client sent
        them, so that the core audits every tools/call, malformed ones included."""
        ...

    async def refuse_call(self, context: CallContext, name: Any, arguments: Any, *, rule: str) -> None:
        """Record a tools/call the transport refused before it reached `call_tool` (a body the strict
        parser refused, an unsupported protocol version), `rule` naming why: every call leaves a trace."""
        ...
