"""The Entry type: what it writes, and what a write's intent keeps of it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit import Entry
from gateway.audit._chain import EVENT_FIELDS, canonical_json, entry_hash, field_problem, hashed_line
from gateway.audit._entry import CHAINED_FIELDS


def chained(entry: Entry) -> dict[str, object]:
    return {**entry.fields(), **dict.fromkeys(CHAINED_FIELDS, "")}


@pytest.mark.parametrize("event", sorted(EVENT_FIELDS))
def test_every_kind_of_event_can_be_built_with_its_required_fields(event: str) -> None:
    required, _ = EVENT_FIELDS[event]
    entry = Entry(event=event, outcome="allowed", detail=dict.fromkeys(required, 0))
    assert field_problem(chained(entry)) is None


def test_the_client_request_id_is_written_only_when_the_client_sent_one() -> None:
    assert "client_request_id" not in Entry(event="tool_call", outcome="allowed").fields()
    sent = Entry(event="tool_call", outcome="allowed", client_request_id="abc").fields()
    assert sent["client_request_id"] == "abc"


def test_an_intent_keeps_who_what_and_why_but_not_what_only_the_outcome_knows() -> None:
    outcome = Entry(
        event="tool_call",
        outcome="allowed",
        request_id="r",
        client_request_id="c",
        principal="agent",
        credential_id="4f2a9c01b7de",
        tool="create_issue",
        repo="acme/app",
        reasons=({"rule": "writes.allow", "effect": "allow", "source": "policy.yaml:9"},),
        duration_ms=12.5,
        detail={
            "approval": {"id": "a1"},
            "args": {"index": 1},
            "output": {"secrets": {}},
            "write": {"issue": 1},
            "intent_seq": 4,
        },
    )
    intent = outcome.intent().fields()
    assert intent["event"] == "write_intent" and intent["outcome"] == "intent"
    assert intent["duration_ms"] == 0.0
    assert (intent["request_id"], intent["client_request_id"], intent["principal"]) == ("r", "c", "agent")
    assert intent["reasons"] == [{"rule": "writes.allow", "effect": "allow", "source": "policy.yaml:9"}]
    assert intent["approval"] == {"id": "a1"}
    assert (intent["credential_id"], intent["args"]) == ("4f2a9c01b7de", {"index": 1})
    assert {"output", "write", "intent_seq"}.isdisjoint(intent)
    assert field_problem(chained(outcome.intent())) is None


def test_adding_fields_leaves_the_original_alone() -> None:
    entry = Entry(event="tool_call", outcome="allowed")
    more = entry.adding(output=None)
    assert "output" in more.fields() and "output" not in entry.fields()


@pytest.mark.parametrize("event", ["tool_call", "write_intent"])
def test_a_call_may_name_its_credential_and_arguments_and_older_entries_without_them_verify(
    event: str,
) -> None:
    older = Entry(event=event, outcome="allowed")
    newer = Entry(event=event, outcome="allowed", credential_id="4f2a9c01b7de", detail={"args": {"index": 3}})
    assert "credential_id" not in older.fields() and newer.fields()["credential_id"] == "4f2a9c01b7de"
    assert field_problem(chained(older)) is None and field_problem(chained(newer)) is None


def test_arguments_are_refused_on_an_event_that_has_none() -> None:
    entry = Entry(event="checkpoint", outcome="allowed", detail={"checkpoint": {}, "args": {"index": 3}})
    assert field_problem(chained(entry)) == "unknown fields: args"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
KEYS = st.sampled_from(["entry", "entry_has", "entry_hashx", "entry_hash_", "ent", "event", "args", "é", ""])


@given(st.dictionaries(KEYS | st.text(max_size=12), JSON_VALUES, max_size=8))
def test_the_writers_one_encoding_equals_hashing_then_encoding_the_entry(entry: dict[str, object]) -> None:
    entry.pop("entry_hash", None)
    digest, line = hashed_line(entry)
    assert digest == entry_hash(entry)
    assert line == canonical_json({**entry, "entry_hash": digest})
