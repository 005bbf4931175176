"""A minimal upstream answering the same JSON as the Gitea simulator, so the upstream is not the bottleneck.

    python -m bench.upstream PORT BODY_FILE TOKEN [PATH [BODY_FILE PATH]...]

Each body is a ContentsResponse captured from the simulator (`GET /contents/{path}`) for the file at PATH
(by default the 2 KB fixture's). From it the upstream also answers what the gateway asks for that file:
its metadata (`GET /contents-ext/{path}`, as Gitea answers it without `includes`) and its blob
(`GET /git/blobs/{sha}`). `GET /_bench/served` counts the requests answered and the body bytes sent.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

API = "/api/v1/repos/acme/app"
FILE_PATH = f"{API}/contents/src/fixture_2k.txt"
SERVED_PATH = "/_bench/served"
_COMMIT_METADATA = ("last_commit_sha", "last_committer_date", "last_author_date", "last_commit_message")


def derived_answers(contents_path: str, body: bytes) -> dict[str, bytes]:
    """The answers about one file that a ContentsResponse holds: itself, the file's metadata as
    `/contents-ext` gives it (no content, no commit metadata) and its blob."""
    contents: dict[str, Any] = json.loads(body)
    metadata = {key: value for key, value in contents.items() if key not in _COMMIT_METADATA}
    metadata.update(encoding=None, content=None)
    blob = {
        "content": contents["content"],
        "encoding": contents["encoding"],
        "url": contents["git_url"],
        "sha": contents["sha"],
        "size": contents["size"],
    }
    file_path = contents_path.removeprefix(f"{API}/contents/")
    return {
        contents_path: body,
        f"{API}/contents-ext/{file_path}": _json({"file_contents": metadata}),
        f"{API}/git/blobs/{contents['sha']}": _json(blob),
    }


def _json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def make_app(answers: Mapping[str, bytes], token: str) -> ASGIApp:
    expected = f"token {token}".encode()
    served = {"requests": 0, "bytes": 0}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == SERVED_PATH:
            status, payload = 200, _json(served)
        elif (b"authorization", expected) not in scope["headers"]:
            status, payload = 401, b'{"message":"unauthorized","url":""}'
        elif scope["path"] in answers:
            status, payload = 200, answers[scope["path"]]
            served["requests"] += 1
            served["bytes"] += len(payload)
        else:
            status, payload = 404, b'{"message":"not found","url":""}'
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


def _answers(argv: list[str]) -> dict[str, bytes]:
    """BODY_FILE [PATH [BODY_FILE PATH]...] as every answer they hold."""
    pairs = [(argv[0], argv[1] if len(argv) > 1 else FILE_PATH), *zip(argv[2::2], argv[3::2], strict=True)]
    answers: dict[str, bytes] = {}
    for body_file, path in pairs:
        answers.update(derived_answers(path, Path(body_file).read_bytes()))
    return answers


if __name__ == "__main__":
    port, token = int(sys.argv[1]), sys.argv[3]
    uvicorn.run(
        make_app(_answers([sys.argv[2], *sys.argv[4:]]), token),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )
