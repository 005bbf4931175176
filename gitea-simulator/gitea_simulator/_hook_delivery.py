"""Webhook delivery off the request path: one worker thread, a queue, one POST per hook task, recorded.

As Gitea's ``services/webhook/deliver.go``: the body is the payload as stored, signed with the hook's
secret (``X-Gitea-Signature``: hex HMAC-SHA256 of the raw body; ``X-Hub-Signature``: ``sha1=`` HMAC-SHA1;
``X-Hub-Signature-256``: ``sha256=`` ...), with the ``X-Gitea-*``, ``X-Gogs-*`` and ``X-GitHub-*``
delivery, event and event type headers, and the hook's ``Authorization`` header when it has one (masked
in the record). A task that fails (refused connection, timeout, any status) is recorded, never retried,
and never reaches the API call that caused it.

Example::

    sender = HookSender(timeout=5.0)
    sender.enqueue(HookTask.of(hook, event_type="issues", body=b"{...}"))
    sender.deliveries()   # [Delivery(...)] once the worker has sent it
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
import queue
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from ._hooks import header_event
from ._store import Hook

__all__ = ["DEFAULT_DELIVER_TIMEOUT", "Delivery", "HookSender", "HookTask"]

DEFAULT_DELIVER_TIMEOUT: Final = 5.0  # Gitea's [webhook] DELIVER_TIMEOUT, seconds
_KEPT: Final = 1000  # deliveries remembered, oldest dropped first
_USER_AGENT: Final = "Go-http-client/1.1"  # Gitea's requests carry Go's default
_MASKED: Final = "******"
_log = logging.getLogger("gitea_simulator.hooks")


@dataclass(frozen=True, slots=True)
class HookTask:
    """One hook's copy of one event: where it goes and the exact request (Gitea's ``HookTask``)."""

    uuid: str
    hook_id: int
    event_type: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    authorization: str = field(default="", repr=False)

    @classmethod
    def of(cls, hook: Hook, *, event_type: str, body: bytes) -> HookTask:
        delivery = str(uuid.uuid4())
        secret = hook.secret.encode("utf-8")
        sha1 = sha256 = ""
        if secret:
            sha1 = hmac.new(secret, body, hashlib.sha1).hexdigest()
            sha256 = hmac.new(secret, body, hashlib.sha256).hexdigest()
        event = header_event(event_type)
        headers = (
            ("Content-Type", "application/json"),
            ("X-Gitea-Delivery", delivery),
            ("X-Gitea-Event", event),
            ("X-Gitea-Event-Type", event_type),
            ("X-Gitea-Signature", sha256),
            ("X-Gogs-Delivery", delivery),
            ("X-Gogs-Event", event),
            ("X-Gogs-Event-Type", event_type),
            ("X-Gogs-Signature", sha256),
            ("X-Hub-Signature", f"sha1={sha1}"),
            ("X-Hub-Signature-256", f"sha256={sha256}"),
            ("X-GitHub-Delivery", delivery),
            ("X-GitHub-Event", event),
            ("X-GitHub-Event-Type", event_type),
        )
        return cls(delivery, hook.id, event_type, hook.url, headers, body, hook.authorization_header)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What was sent and what came back: ``status`` 0 and ``error`` set when no answer arrived."""

    id: int
    uuid: str
    hook_id: int
    event: str
    event_type: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int
    response_body: str
    error: str
    delivered: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class HookSender:
    """A daemon worker delivering hook tasks in the order they were enqueued."""

    def __init__(self, *, timeout: float = DEFAULT_DELIVER_TIMEOUT) -> None:
        self.timeout = timeout
        self._tasks: queue.SimpleQueue[HookTask] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._done: deque[Delivery] = deque(maxlen=_KEPT)
        self._count = 0
        self._worker: threading.Thread | None = None

    def enqueue(self, task: HookTask) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="gitea-simulator-hooks", daemon=True)
                self._worker.start()
        self._tasks.put(task)

    def deliveries(self) -> list[Delivery]:
        """Every recorded delivery, oldest first."""
        with self._lock:
            return list(self._done)

    def _run(self) -> None:
        while True:
            task = self._tasks.get()
            try:
                delivery = self._deliver(task)
            except Exception:  # a bug of ours must not stop later deliveries
                _log.exception("webhook task %s failed", task.uuid)
                continue
            with self._lock:
                self._done.append(delivery)

    def _send(self, task: HookTask, headers: dict[str, str]) -> tuple[int, str]:
        target = urlsplit(task.url)
        if target.scheme not in ("http", "https") or not target.hostname:
            raise ValueError(f"unsupported webhook URL {task.url!r}")
        connection_type = (
            http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_type(target.hostname, target.port, timeout=self.timeout)
        path = target.path or "/"
        if target.query:
            path = f"{path}?{target.query}"
        try:
            connection.request("POST", path, body=task.body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()

    def _deliver(self, task: HookTask) -> Delivery:
        headers = dict(task.headers)
        recorded = dict(headers)
        if task.authorization:
            headers["Authorization"] = task.authorization
            recorded["Authorization"] = _MASKED
        headers |= {"User-Agent": _USER_AGENT, "Accept-Encoding": "gzip"}
        status, answer, error = 0, "", ""
        try:
            status, answer = self._send(task, headers)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"Delivery: {exc}"
            _log.warning("webhook %s to %s failed: %s", task.uuid, task.url, exc)
        with self._lock:
            self._count += 1
            number = self._count
        return Delivery(
            id=number,
            uuid=task.uuid,
            hook_id=task.hook_id,
            event=header_event(task.event_type),
            event_type=task.event_type,
            url=task.url,
            request_headers=recorded,
            request_body=task.body.decode("utf-8"),
            status=status,
            response_body=answer,
            error=error,
            delivered=time.time(),
        )
