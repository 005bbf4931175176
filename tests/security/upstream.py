"""What an attacker with write access to Gitea (or a compromised committer) can put into a repository, done
directly on the test's simulator: files, branches, pull requests, tags and releases.

Example:
    writer = UpstreamWriter(simulator)
    sha = writer.add_file("src/x.py", b"print(1)\\n", message="Add x")
    writer.create_branch(f"{sha}/src", start="main")
"""

from __future__ import annotations

import base64
import dataclasses
import os
import subprocess
from typing import Any

import httpx
from gitea_simulator import add_token
from gitea_simulator._store import MetadataStore, Release, write_metadata

from tests.processes import Simulator

OWNER, NAME = "acme", "app"
WRITE_SCOPES = ("write:repository", "write:issue", "read:user")
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Mallory",
    "GIT_AUTHOR_EMAIL": "mallory@example.com",
    "GIT_COMMITTER_NAME": "Mallory",
    "GIT_COMMITTER_EMAIL": "mallory@example.com",
}


@dataclasses.dataclass
class UpstreamWriter:
    """Writes to acme/app of `simulator` as its write collaborator aegis-bot, bypassing the gateway."""

    simulator: Simulator

    def __post_init__(self) -> None:
        token = add_token(self.simulator.state_dir, user="aegis-bot", scopes=WRITE_SCOPES, name="attacker")
        self._http = httpx.Client(
            base_url=f"{self.simulator.url}/api/v1/repos/{OWNER}/{NAME}",
            headers={"Authorization": f"token {token}"},
            timeout=30.0,
        )

    def add_file(
        self,
        path: str,
        content: bytes,
        *,
        branch: str = "main",
        new_branch: str | None = None,
        message: str = "",
    ) -> str:
        """Commit a new file; returns the commit's id."""
        body: dict[str, Any] = {"content": base64.b64encode(content).decode(), "branch": branch}
        if new_branch:
            body["new_branch"] = new_branch
        if message:
            body["message"] = message
        answer = self._send("POST", f"/contents/{path}", body)
        return str(answer["commit"]["sha"])

    def update_file(self, path: str, content: bytes, *, branch: str = "main") -> str:
        """Commit a new content of an existing file; returns the commit's id."""
        current = self._http.get(f"/contents/{path}", params={"ref": branch})
        assert current.status_code == 200, current.text
        body = {"content": base64.b64encode(content).decode(), "sha": current.json()["sha"], "branch": branch}
        return str(self._send("PUT", f"/contents/{path}", body)["commit"]["sha"])

    def create_branch(self, name: str, *, start: str) -> None:
        self._send("POST", "/branches", {"new_branch_name": name, "old_ref_name": start})

    def open_pull_request(self, *, head: str, title: str, body: str) -> int:
        answer = self._send("POST", "/pulls", {"head": head, "base": "main", "title": title, "body": body})
        return int(answer["number"])

    def tag(self, name: str, *, commit: str, message: str) -> None:
        """An annotated tag of `commit` (or of any object), made with git in the bare repository."""
        self._git("tag", "-a", name, "-F", "-", commit, stdin=message)

    def object_id(self, name: str) -> str:
        """What git makes of `name` (`main:src/secrets` is that directory's tree)."""
        return self._git("rev-parse", name).strip()

    def _git(self, *args: str, stdin: str = "") -> str:
        repo = MetadataStore(self.simulator.state_dir).current().repo(OWNER, NAME)
        assert repo is not None
        done = subprocess.run(
            ["git", "--git-dir", str(repo.git_dir(self.simulator.state_dir)), *args],
            input=stdin.encode(),
            env={**os.environ, **_GIT_IDENTITY},
            check=True,
            capture_output=True,
        )
        return done.stdout.decode()

    def add_release(self, tag_name: str, *, note: str) -> None:
        """A published release of an existing tag, written into the simulator's metadata."""
        state_dir = self.simulator.state_dir
        metadata = MetadataStore(state_dir).current()
        repo = metadata.repo(OWNER, NAME)
        assert repo is not None
        release = Release(
            id=max((r.id for r in repo.releases), default=0) + 1,
            tag_name=tag_name,
            target="main",
            title=tag_name,
            publisher="alice",
            created_at="2026-11-30T12:00:00Z",
            note=note,
        )
        write_metadata(
            state_dir, metadata.with_repo(dataclasses.replace(repo, releases=(*repo.releases, release)))
        )

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        response = self._http.request(method, path, json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()
