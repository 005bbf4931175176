"""Structured JSON log lines, each carrying the request id of the call that produced it (and the client's
own X-Request-ID, when it sent a well-formed one)."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from gateway.observability.request_id import (
    current_client_request_id,
    current_request_id,
    current_traceparent,
)

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id, client_request_id and traceparent
    (when there are), and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": current_request_id.get(),
        }
        client_request_id = current_client_request_id.get()
        if client_request_id is not None:
            line["client_request_id"] = client_request_id
        traceparent = current_traceparent.get()
        if traceparent is not None:
            line["traceparent"] = traceparent
        line.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Send every log record (the gateway's and uvicorn's) to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
