"""A minimal upstream answering the same JSON as the Gitea simulator, so the upstream is not the bottleneck.

    python -m bench.upstream PORT BODY_FILE TOKEN [PATH]

The body is captured from the simulator at start-up; it answers the contents request of that one file
(PATH, by default the 2 KB fixture's).
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

FILE_PATH = "/api/v1/repos/acme/app/contents/src/fixture_2k.txt"


def make_app(body: bytes, token: str, file_path: str = FILE_PATH) -> ASGIApp:
    expected = f"token {token}".encode()
    ok_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        authorized = (b"authorization", expected) in scope["headers"]
        found = scope["path"] == file_path
        status = 200 if authorized and found else 401 if not authorized else 404
        payload = body if status == 200 else b'{"message":"not found","url":""}'
        headers = ok_headers if status == 200 else [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


if __name__ == "__main__":
    port, body_file, token = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    served = sys.argv[4] if len(sys.argv) > 4 else FILE_PATH
    uvicorn.run(
        make_app(body_file.read_bytes(), token, served),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )
