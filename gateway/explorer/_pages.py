"""The explorer's pages as HTML strings. Every value that comes from an entry, a policy or a request is
passed through `html.escape` here, and nothing here is script: an entry's path of `<script>` shows as
text."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import urlencode

from gateway.audit import ShownEntry
from gateway.state import ArchivedPolicy

ROOT = "/admin/explorer"
ENTRY_PATH = f"{ROOT}/entry"
POLICY_PATH = f"{ROOT}/policy"
LOGIN_PATH = f"{ROOT}/login"
LOGOUT_PATH = f"{ROOT}/logout"
STYLE_PATH = f"{ROOT}/explorer.css"
FILTER_FIELDS = (
    ("principal", "Principal"),
    ("credential_id", "Credential id"),
    ("tool", "Tool"),
    ("repo", "Repository"),
    ("path", "Path glob"),
    ("outcome", "Outcome"),
    ("rule", "Rule"),
    ("revision", "Revision prefix"),
    ("event", "Event"),
    ("since", "Since"),
    ("until", "Until (exclusive)"),
)
_HINTS = {"path": "src/**", "since": "2026-12-02 or 24h", "until": "2026-12-03", "repo": "acme/app"}


def page(title: str, body: str, *, signed_in: str | None = None) -> str:
    account = ""
    if signed_in is not None:
        account = (
            f'<form method="post" action="{LOGOUT_PATH}" class="account">'
            f'<span>{escape(signed_in)}</span> <button type="submit">Sign out</button></form>'
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Aegis decision explorer</title>"
        f'<link rel="stylesheet" href="{STYLE_PATH}"></head><body>'
        f'<header><a href="{ROOT}" class="brand">Aegis decision explorer</a>{account}</header>'
        f"<main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )


def login_page(message: str | None = None) -> str:
    notice = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    body = (
        f"{notice}<p>Sign in with an API key that has the <code>admin</code> scope. The key is checked once;"
        " the browser keeps a session of an hour, never the key.</p>"
        f'<form method="post" action="{LOGIN_PATH}" class="login">'
        '<label for="key">Admin API key</label>'
        '<input type="password" id="key" name="key" autocomplete="off" required>'
        '<button type="submit">Sign in</button></form>'
    )
    return page("Sign in", body)


def list_page(
    *,
    asked: Mapping[str, str],
    rows: Sequence[Mapping[str, Any]],
    total: int,
    offset: int,
    per_page: int,
    per_day_svg: str,
    top_rules_svg: str,
    signed_in: str,
    problem: str | None = None,
) -> str:
    notice = f'<p class="error" role="alert">{escape(problem)}</p>' if problem else ""
    shown = f"{offset + 1} to {offset + len(rows)} of {total}" if rows else f"none of {total}"
    body = (
        f"{notice}{_filter_form(asked)}"
        f'<section class="charts"><div><h2>Decisions per day</h2>{per_day_svg}</div>'
        f"<div><h2>Deny rules most hit</h2>{top_rules_svg}</div></section>"
        f'<h2>Entries <span class="count" id="shown">{escape(shown)}</span></h2>'
        f"{_table(rows)}{_pager(asked, offset, per_page, total)}"
    )
    return page("Decisions", body, signed_in=signed_in)


def entry_page(
    shown: ShownEntry,
    *,
    policy: ArchivedPolicy | None,
    checkpoint: tuple[int, str] | None,
    signed_in: str,
) -> str:
    entry = shown.entry
    revision = entry.get("bundle_revision")
    who = [
        ("Principal", entry.get("principal")),
        ("Credential id", entry.get("credential_id")),
        ("Client", entry.get("client_ip")),
    ]
    what = [
        ("Event", entry.get("event")),
        ("Tool", entry.get("tool")),
        ("Repository", entry.get("repo")),
        ("Path", entry.get("path")),
        ("Ref", entry.get("ref")),
        ("Time", entry.get("ts")),
        ("Replica", entry.get("replica")),
        ("Request id", entry.get("request_id")),
    ]
    outcome = entry.get("outcome")
    if isinstance(revision, str):
        revision_html = _link(POLICY_PATH, {"revision": revision}, revision)
        if policy is None:
            revision_html += ' <span class="warn">not in the policy archive</span>'
    else:
        revision_html = "—"
    if checkpoint is None:
        vouched = '<span class="warn">no checkpoint after it yet: not yet signed</span>'
    else:
        vouched = (
            f"signed by checkpoint entry {_link(ENTRY_PATH, {'seq': str(checkpoint[0])}, str(checkpoint[0]))}"
            f" at {escape(checkpoint[1])} (verify its signature with <code>aegis audit verify"
            " --public-key</code>)"
        )
    chain_class = "ok" if shown.status.islower() else "error"
    body = (
        f'<dl class="facts">{_facts(who)}{_facts(what)}'
        f'<dt>Outcome</dt><dd class="outcome {escape(str(outcome))}" id="outcome">{escape(str(outcome))}</dd>'
        f"<dt>Policy revision</dt><dd>{revision_html}</dd>"
        f'<dt>Chain</dt><dd class="{chain_class}" id="chain">{escape(shown.status)}</dd>'
        f'<dt>Checkpoint</dt><dd id="checkpoint">{vouched}</dd></dl>'
        f"<h2>Reasons</h2>{_reasons(entry.get('reasons') or [], revision, policy)}"
        f'<h2>Entry as the log holds it</h2><pre class="raw">'
        f"{escape(json.dumps(entry, indent=2, ensure_ascii=False))}</pre>"
    )
    return page(f"Entry {entry.get('seq')}", body, signed_in=signed_in)


def policy_page(policy: ArchivedPolicy, *, loaded: str, signed_in: str) -> str:
    if policy.source is None:
        listing = "<p>Served from a pre-built bundle: no YAML was archived.</p>"
    else:
        lines = policy.source.decode("utf-8", "replace").splitlines()
        listing = (
            '<ol class="source">'
            + "".join(
                f'<li id="L{number}"><a href="#L{number}" class="line">{number}</a>'
                f"<code>{escape(text)}</code></li>"
                for number, text in enumerate(lines, start=1)
            )
            + "</ol>"
        )
    body = (
        f'<p>Revision <code id="revision">{escape(policy.revision)}</code>, loaded from'
        f" <code>{escape(policy.file)}</code>, {escape(loaded)}.</p>{listing}"
    )
    return page(f"Policy {policy.revision[:12]}", body, signed_in=signed_in)


def message_page(title: str, message: str, *, signed_in: str | None = None) -> str:
    return page(title, f'<p class="error" role="alert">{escape(message)}</p>', signed_in=signed_in)


def _filter_form(asked: Mapping[str, str]) -> str:
    fields = []
    for name, label in FILTER_FIELDS:
        value = escape(asked.get(name, ""))
        if name == "outcome":
            options = "".join(
                f'<option value="{o}"{" selected" if asked.get(name) == o else ""}>{o or "any"}</option>'
                for o in ("", "allowed", "denied", "pending", "invalid", "error")
            )
            control = f'<select id="f-{name}" name="{name}">{options}</select>'
        else:
            hint = escape(_HINTS.get(name, ""))
            control = f'<input id="f-{name}" name="{name}" value="{value}" placeholder="{hint}">'
        fields.append(f'<label for="f-{name}">{label}</label>{control}')
    return (
        f'<form method="get" action="{ROOT}" class="filters">{"".join(fields)}'
        f'<button type="submit">Filter</button> <a href="{ROOT}">Clear</a></form>'
    )


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Time", "Seq", "Principal", "Tool", "Repository", "Path", "Outcome", "Revision", "Reasons")
    )
    body = []
    for row in rows:
        revision = row["revision"]
        cells = [
            escape(row["ts"] or ""),
            _link(ENTRY_PATH, {"seq": str(row["seq"])}, str(row["seq"])),
            escape(row["principal"] or "—"),
            escape(row["tool"] or row["event"] or ""),
            escape(row["repo"] or "—"),
            escape(row["path"] or "—"),
            f'<span class="outcome {escape(row["outcome"] or "")}">{escape(row["outcome"] or "—")}</span>',
            _link(POLICY_PATH, {"revision": revision}, revision[:12]) if revision else "—",
            " ".join(_reason_link(reason, revision) for reason in row["reasons"] if isinstance(reason, dict)),
        ]
        body.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return f'<table id="entries"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _pager(asked: Mapping[str, str], offset: int, per_page: int, total: int) -> str:
    links = []
    if offset > 0:
        links.append(_link(ROOT, {**asked, "offset": str(max(0, offset - per_page))}, "← Earlier"))
    if offset + per_page < total:
        links.append(_link(ROOT, {**asked, "offset": str(offset + per_page)}, "Later →"))
    return f'<nav class="pager">{" ".join(links)}</nav>' if links else ""


def _reasons(reasons: Sequence[Any], revision: Any, policy: ArchivedPolicy | None) -> str:
    items = []
    for reason in reasons:
        if not isinstance(reason, dict):
            continue
        line = policy.line(reason.get("source")) if policy is not None else None
        quoted = ""
        if line is not None:
            quoted = f'<pre class="yaml"><span class="line">{line[0]}</span>{escape(line[1])}</pre>'
        items.append(
            f'<li><span class="effect">{escape(str(reason.get("effect")))}</span> '
            f"<code>{escape(str(reason.get('rule')))}</code> {_reason_link(reason, revision)}{quoted}</li>"
        )
    return f'<ul class="reasons" id="reasons">{"".join(items)}</ul>' if items else "<p>No reasons given.</p>"


def _reason_link(reason: Mapping[str, Any], revision: Any) -> str:
    """`rule@policy.yaml:LINE`, linked to that line of the archived policy when the revision is known."""
    source = str(reason.get("source"))
    text = f"{reason.get('rule')}@{source}"
    number = source.rsplit(":", 1)[-1]
    if not isinstance(revision, str) or not number.isdigit():
        return f"<code>{escape(text)}</code>"
    return _link(POLICY_PATH, {"revision": revision}, text, anchor=f"L{number}")


def _facts(pairs: Sequence[tuple[str, Any]]) -> str:
    return "".join(
        f"<dt>{label}</dt><dd>{escape(str(value))}</dd>" for label, value in pairs if value is not None
    )


def _link(path: str, query: Mapping[str, str], text: str, *, anchor: str = "") -> str:
    target = f"{path}?{urlencode(query)}" + (f"#{anchor}" if anchor else "")
    return f'<a href="{escape(target)}">{escape(text)}</a>'
