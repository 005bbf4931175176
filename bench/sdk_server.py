"""Scenario B: an unsecured MCP server built with the official SDK whose tool makes the same upstream call
as Aegis' get_file_contents. No auth, policy, audit or metrics.

Its fastest configuration: MCPServer stateless with JSON responses (no session, no SSE stream), logging
only warnings, served by uvicorn on uvloop and httptools without an access log.

`python -m bench.sdk_server PORT UPSTREAM_URL TOKEN`
"""

from __future__ import annotations

import base64
import sys

import httpx
import uvicorn
from mcp.server.mcpserver import MCPServer


def build(upstream: str, token: str) -> MCPServer:
    # Logging off below WARNING: at its default (INFO) the SDK renders httpx's line for every upstream
    # request through rich, a quarter of its CPU time under load.
    server = MCPServer("unsecured-gitea", log_level="WARNING")
    client = httpx.AsyncClient(base_url=upstream, headers={"Authorization": f"token {token}"}, timeout=10)

    @server.tool()
    async def get_file_contents(owner: str, repo: str, filepath: str, ref: str | None = None) -> str:
        """Read a file of a repository."""
        params = {"ref": ref} if ref else {}
        response = await client.get(f"/api/v1/repos/{owner}/{repo}/contents/{filepath}", params=params)
        response.raise_for_status()
        return base64.b64decode(response.json()["content"]).decode("utf-8")

    return server


if __name__ == "__main__":
    port, upstream, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = build(upstream, token).streamable_http_app(json_response=True, stateless_http=True)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )
