"""The /mcp endpoint of a real gateway process under generated abuse: arbitrary bytes, almost-valid JSON-RPC,
tool calls with generated arguments, unicode tricks, deep and huge bodies, abused headers and raw HTTP.

The bar (over at least MIN_REQUESTS requests a run): no 5xx but a 503 with Retry-After, no crash, no stack
trace, no internals in an answer, JSON bodies that parse. Each test also asserts what the gateway must
answer where that is known (say, 413 exactly when the body is over the cap). The module takes about 50
seconds on two cores; every request but the raw ones goes through one keep-alive connection, written and
read over a plain socket (tests/fuzz/raw_http.py), and most examples send a batch of requests.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from collections.abc import Iterator
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config import DEFAULT_MAX_HEADER_BYTES
from gateway.mcp._jsonrpc import INVALID_PARAMS, INVALID_REQUEST, MAX_DEPTH, PARSE_ERROR
from gateway.tools import BoundTool, default_registry
from tests.fuzz.client import CheckedClient
from tests.fuzz.invariants import Reply
from tests.fuzz.json_text import encode
from tests.fuzz.raw_http import NoResponseError
from tests.fuzz.schema_arguments import invalid_arguments, valid_arguments
from tests.fuzz.strategies import (
    API_KEY,
    BODY_CAP,
    TRICKY_CHARS,
    DeepBody,
    HeaderList,
    PaddedPing,
    ToolSample,
    almost_valid_bodies,
    deep_bodies,
    header_lists,
    json_texts,
    padded_pings,
    raw_requests,
    tools_call,
)
from tests.processes import Gateway

pytestmark = pytest.mark.e2e
T = TypeVar("T")

MIN_REQUESTS = 20_000
TOOLS = list(default_registry())
# Real names from the simulator's demo data, so that generated calls also reach Gitea and OPA.
FAVOURITES: dict[str, list[Any]] = {
    "owner": ["acme", "ACME", "other"],
    "repo": ["app", "App", "infra", "secret"],
    "filepath": ["README.md", "src/main.py", "src/secrets/prod.env", "docs", "src"],
    "path": ["README.md", "src", "src/secrets/prod.env"],
    "ref": ["main", "v0.1.0", "feature/login"],
    "index": [1, 2],
}
VALID_CREDENTIALS = re.compile(rb"bearer " + re.escape(API_KEY), re.IGNORECASE)
PING = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
LIST = b'{"jsonrpc":"2.0","id":"l","method":"tools/list"}'
CALL = encode(tools_call("get_file_contents", {"owner": "acme", "repo": "app", "filepath": "README.md"}))


# Most tests send BATCH requests per example: Hypothesis's own work per example costs more than a request
# does, and a batch shares it.
BATCH = 4


def batches(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[list[T]]:
    return st.lists(strategy, min_size=BATCH, max_size=BATCH)


def examples_sending(requests: int) -> int:
    """How many examples send `requests` in batches."""
    return math.ceil(requests / BATCH)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


def samples(tool: BoundTool, *, valid: bool) -> st.SearchStrategy[ToolSample]:
    arguments = valid_arguments if valid else invalid_arguments
    return arguments(tool.schema, favourites=FAVOURITES).map(lambda args: ToolSample(tool.tool.name, args))


# Calls that succeed, for mutating: generating arguments costs more than sending the call.
KNOWN_GOOD_CALLS = [
    ToolSample("get_file_contents", {"owner": "acme", "repo": "app", "filepath": "README.md", "ref": "main"}),
    ToolSample("list_commits", {"owner": "ACME", "repo": "app", "path": "src", "page": 1, "limit": 2}),
    ToolSample("list_issues", {"owner": "acme", "repo": "app", "state": "all", "labels": ["bug"]}),
    ToolSample("get_issue", {"owner": "acme", "repo": "app", "index": 1}),
    ToolSample("list_repositories", {"query": "app"}),
]
VALID_SAMPLES = st.one_of([samples(tool, valid=True) for tool in TOOLS])
# Two calls in three invalid: a valid call, which reaches OPA and Gitea, costs several invalid ones.
CALL_SAMPLES = st.one_of([samples(tool, valid=valid) for tool in TOOLS for valid in (True, False, False)])
VALIDATORS = {tool.tool.name: tool.validator for tool in TOOLS}


@pytest.fixture(scope="module")
def client(fuzz_gateway: Gateway, request: pytest.FixtureRequest) -> Iterator[CheckedClient]:
    """The module's client; when every test of the module ran, its run must have sent MIN_REQUESTS."""
    checked = CheckedClient(fuzz_gateway)
    yield checked
    checked.close()
    if _whole_module_ran(request):
        sent = sum(checked.tally.values())
        print(f"{sent} requests:", dict(checked.tally))
        assert sent >= MIN_REQUESTS, checked.tally


def _whole_module_ran(request: pytest.FixtureRequest) -> bool:
    tests = {name for name in dir(request.module) if name.startswith("test_")}
    ran = {item.originalname for item in request.session.items if item.module is request.module}
    return ran == tests


def error_code(reply: Reply) -> int | None:
    document = reply.json()
    error = document.get("error") if isinstance(document, dict) else None
    return error.get("code") if isinstance(error, dict) else None


@fuzz(examples_sending(5500))
@given(bodies=batches(st.one_of(st.binary(max_size=2048), json_texts)))
def test_arbitrary_bytes(client: CheckedClient, bodies: list[bytes]) -> None:
    for body in bodies:
        reply = client.post(body, kind="arbitrary bytes")
        assert reply.status in (200, 202, 400), reply


@fuzz(examples_sending(7000))
@given(bodies=batches(almost_valid_bodies(st.sampled_from(KNOWN_GOOD_CALLS))))
def test_almost_valid_messages(client: CheckedClient, bodies: list[bytes]) -> None:
    for body in bodies:
        reply = client.post(body, kind="almost-valid JSON-RPC")
        assert reply.status in (200, 202, 400), reply


@fuzz(examples_sending(2100))
@given(calls=batches(st.tuples(CALL_SAMPLES, st.integers() | st.text(max_size=8))))
def test_tools_call_with_arguments_from_the_schema(
    client: CheckedClient, calls: list[tuple[ToolSample, int | str]]
) -> None:
    """Invalid arguments are always -32602 naming the problem; valid ones run, are denied, or fail
    normalization (-32602 too), and never anything else."""
    for sample, request_id in calls:
        reply = client.post(encode(tools_call(sample.name, sample.arguments, request_id)), kind="tools/call")
        document = reply.json()
        assert reply.status == 200 and document["id"] == request_id, reply
        if not VALIDATORS[sample.name].is_valid(sample.arguments):
            assert document["error"]["code"] == INVALID_PARAMS, reply
            assert document["error"]["message"].startswith("Invalid arguments: "), reply
        elif "error" in document:
            assert document["error"]["code"] == INVALID_PARAMS, reply
        else:
            assert isinstance(document["result"]["isError"], bool), reply


@st.composite
def tricked_names(draw: st.DrawFn) -> str:
    """A real tool name with look-alike, invisible or control characters put in, or its case changed."""
    name = draw(st.sampled_from([tool.tool.name for tool in TOOLS]))
    where = draw(st.integers(0, len(name)))
    trick = draw(st.sampled_from(["insert", "replace", "case"]))
    if trick == "case":
        return name.upper() if draw(st.booleans()) else name.title()
    char = draw(st.sampled_from(TRICKY_CHARS))
    return name[:where] + char + name[where + (trick == "replace") :]


@fuzz(examples_sending(600))
@given(names=batches(tricked_names()))
def test_tricked_tool_names_are_unknown_tools(client: CheckedClient, names: list[str]) -> None:
    for name in names:
        reply = client.post(encode(tools_call(name, {"owner": "acme", "repo": "app"})), kind="unicode tricks")
        assert error_code(reply) == INVALID_PARAMS, reply
        assert reply.json()["error"]["message"].startswith("Unknown tool: "), reply


# What an argument may hold at all: a trick outside it must be refused. Paths may hold almost anything, but
# never control or invisible characters.
ALLOWED_CHARACTERS = {
    "owner": re.compile(r"[A-Za-z0-9_.-]*"),
    "repo": re.compile(r"[A-Za-z0-9_.-]*"),
    "ref": re.compile(r"[A-Za-z0-9._/@-]*"),
}
PATH_ARGUMENTS = frozenset({"filepath", "path"})


@dataclasses.dataclass(frozen=True)
class TrickedCall:
    """A valid call with `trick` put into its string argument `argument` (None when it has none)."""

    sample: ToolSample
    argument: str | None
    trick: str

    def must_be_refused(self) -> bool:
        if self.argument in PATH_ARGUMENTS:
            return any(unicodedata.category(char) in ("Cc", "Cf") for char in self.trick)
        allowed = ALLOWED_CHARACTERS.get(self.argument or "")
        return allowed is not None and not allowed.fullmatch(self.trick)


@st.composite
def tricked_calls(draw: st.DrawFn) -> TrickedCall:
    """Valid arguments with one to three tricky characters put into one of their strings."""
    sample = draw(VALID_SAMPLES)
    texts = sorted(name for name, value in sample.arguments.items() if isinstance(value, str))
    trick = draw(st.text(st.sampled_from(TRICKY_CHARS), min_size=1, max_size=3))
    if not texts:
        return TrickedCall(sample, None, trick)
    name = draw(st.sampled_from(texts))
    where = draw(st.integers(0, len(sample.arguments[name])))
    value = sample.arguments[name][:where] + trick + sample.arguments[name][where:]
    return TrickedCall(ToolSample(sample.name, {**sample.arguments, name: value}), name, trick)


@fuzz(examples_sending(600))
@given(calls=batches(tricked_calls()))
def test_tricky_characters_in_arguments(client: CheckedClient, calls: list[TrickedCall]) -> None:
    for call in calls:
        body = encode(tools_call(call.sample.name, call.sample.arguments))
        reply = client.post(body, kind="unicode tricks")
        assert reply.status == 200, reply
        if call.must_be_refused():
            assert error_code(reply) == INVALID_PARAMS, reply


@fuzz(300)
@given(deep=deep_bodies)
def test_nesting_past_the_depth_cap_is_refused(client: CheckedClient, deep: DeepBody) -> None:
    reply = client.post(deep.body, kind="deep nesting")
    if deep.depth > MAX_DEPTH:
        assert reply.status == 400 and error_code(reply) in (INVALID_REQUEST, PARSE_ERROR), reply
    else:
        assert reply.status == 200 and reply.json()["result"] == {}, reply


@fuzz(60)
@given(ping=padded_pings)
def test_bodies_over_the_cap_are_413(client: CheckedClient, ping: PaddedPing) -> None:
    reply = client.post(ping.body, kind="huge bodies")
    assert reply.status == (413 if ping.size > BODY_CAP else 200), reply


@fuzz(1000)
@given(headers=header_lists())
def test_header_abuse(client: CheckedClient, headers: HeaderList) -> None:
    """Each header set goes with a ping, a tools/list and a tools/call. A head near or over the gateway's
    bound on its size is refused with 431, or the connection is closed while it is still being sent."""
    credentials = [value for name, value in headers if name == b"authorization"]
    authorized = len(credentials) == 1 and VALID_CREDENTIALS.fullmatch(credentials[0]) is not None
    oversized = sum(len(name) + len(value) + 4 for name, value in headers) > DEFAULT_MAX_HEADER_BYTES - 1024
    for body in (PING, LIST, CALL):
        try:
            reply = client.post(body, headers=headers, kind="header abuse")
        except NoResponseError:
            assert oversized, headers[:8]
            continue
        allowed = (401, 403, 431) if oversized else (401, 403)  # 403: the Host or Origin check came first
        assert (authorized and reply.status != 431) or reply.status in allowed, reply


@fuzz(examples_sending(2000))
@given(requests=batches(raw_requests(st.sampled_from([PING, CALL, b"{", b""]))))
def test_raw_http_abuse(client: CheckedClient, requests: list[bytes]) -> None:
    for request in requests:
        client.raw(request, kind="raw HTTP")


def test_the_gateway_survived_the_run(fuzz_gateway: Gateway) -> None:
    assert fuzz_gateway.process.poll() is None
    assert httpx.get(f"{fuzz_gateway.base_url}/healthz", timeout=5).json() == {"status": "ok"}
    assert "Traceback" not in fuzz_gateway.logs()


def test_every_error_names_its_request_id(client: CheckedClient) -> None:
    client.post(b"{not json", kind="arbitrary bytes")  # so that the test holds on its own too
    assert client.request_id_gaps == []
