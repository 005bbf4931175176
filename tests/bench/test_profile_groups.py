"""Grouping a py-spy raw profile's samples by what the gateway was doing."""

from __future__ import annotations

from bench.profile_groups import OTHER, grouped

RUNPY = "_run_module_as_main (<frozen runpy>:198)"
LOOP = ";".join(
    [
        RUNPY,
        "run_asgi (uvicorn/protocols/http/httptools_impl.py:401)",
        "__call__ (starlette/applications.py:113)",
        "__call__ (starlette/middleware/errors.py:165)",
        "__call__ (gateway/observability/request_id.py:40)",
    ]
)


def test_samples_are_shared_out_by_the_first_group_on_their_stack() -> None:
    profile = [
        f"{LOOP};present (gateway/core/results.py:40);scan_text (gateway/sanitize/_content.py:9) 30\n",
        f"{LOOP};_answer (gateway/opa/_client.py:200);request (gateway/opa/_wire.py:70) 20\n",
        f"{LOOP};append (gateway/audit/_writer.py:120) 10\n",
        f"{LOOP};dispatch (gateway/edge/auth.py:50) 30\n",
        f"{RUNPY};data_received (uvicorn/protocols/http/httptools_impl.py:170) 10\n",
        "Thread._bootstrap (threading.py:995);_worker (concurrent/futures/thread.py:81) 500\n",
    ]
    assert grouped(profile) == {
        "sanitizing": 30.0,
        OTHER: 30.0,
        "the OPA round trip (client side)": 20.0,
        "the audit entry (encode, hash, write, fsync hand-off)": 10.0,
        "the HTTP server": 10.0,
    }
