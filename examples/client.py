"""Read a file through Aegis with the official MCP Python SDK: the README's example, runnable.

.venv/bin/python examples/client.py http://127.0.0.1:8080/mcp aegis_...
"""

from __future__ import annotations

import asyncio
import sys

import httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def read_readme(url: str, key: str) -> str:
    async with (
        httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        result = await client.call_tool(
            "get_file_contents", {"owner": "acme", "repo": "app", "filepath": "README.md"}
        )
    if result.is_error:
        raise SystemExit(f"refused: {result.content}")
    return "\n".join(block.text for block in result.content if block.type == "text")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print(asyncio.run(read_readme(sys.argv[1], sys.argv[2])))
