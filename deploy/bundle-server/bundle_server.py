"""A static bundle server for OPA: serves the files of one directory read-only, with a strong ETag
(the SHA-256 of the file) and 304 Not Modified for a matching If-None-Match, which is how OPA polls a
bundle without downloading it again. Standard library only, so it runs in the bare base image.

    python3 bundle_server.py --root /bundles --bind 0.0.0.0:8888

A new bundle is published by writing it beside the old one and renaming it over it: a reader sees the
old file or the new one, never half of one.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import os
from pathlib import Path

CHUNK = 1 << 16


class BundleHandler(http.server.BaseHTTPRequestHandler):
    root: Path
    server_version = "aegis-bundle-server"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, *, body: bool) -> None:
        if self.path == "/health":
            self._send(200, b"ok\n", "text/plain", body=body)
            return
        path = self._file()
        if path is None:
            self._send(404, b"not found\n", "text/plain", body=body)
            return
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        if etag in (tag.strip() for tag in self.headers.get("If-None-Match", "").split(",")):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self._send(200, data, "application/gzip", body=body, etag=etag)

    def _file(self) -> Path | None:
        """The regular file under the root that the path names; None for anything else (.., symlinks out)."""
        name = self.path.split("?", 1)[0].lstrip("/")
        if not name or any(part in ("", ".", "..") for part in name.split("/")):
            return None
        candidate = (self.root / name).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def _send(self, status: int, data: bytes, kind: str, *, body: bool, etag: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        if etag is not None:
            self.send_header("ETag", etag)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        os.write(2, (f"{self.address_string()} {format % args}\n").encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="the directory whose files are served")
    parser.add_argument("--bind", default="127.0.0.1:8888", help="HOST:PORT (default 127.0.0.1:8888)")
    args = parser.parse_args()
    host, port = args.bind.rsplit(":", 1)
    handler = type("Handler", (BundleHandler,), {"root": args.root.resolve()})
    server = http.server.ThreadingHTTPServer((host, int(port)), handler)
    print(f"bundle server on {host}:{server.server_port}, serving {args.root}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
