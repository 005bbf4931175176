"""`aegis approvals list|show|approve|deny` and `aegis rollback`: clients of the running gateway's admin API.

They act through the gateway rather than on its files: the gateway is the one writer of the audit log
and of the state database, and it audits every approval and rollback under the approver's key.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from gateway.admin_client import AdminApiError, AdminClient
from gateway.config import ADMIN_KEY_VARIABLE

EXIT_OK = 0


def add_admin_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument(
        "--url",
        help=f"the gateway (default: $AEGIS_ADMIN_URL, else AEGIS_BIND); the key is ${ADMIN_KEY_VARIABLE}",
    )
    approvals = commands.add_parser("approvals", help="held calls awaiting a human").add_subparsers(
        required=True, metavar="ACTION"
    )
    list_ = approvals.add_parser("list", parents=[target], help="pending approvals, oldest first")
    list_.add_argument("--all", action="store_true", help="recent approvals of every state")
    list_.add_argument("--json", action="store_true", help="machine-readable, with the full arguments")
    list_.set_defaults(handler=_list)
    show = approvals.add_parser("show", parents=[target], help="one approval with its whole arguments (JSON)")
    show.add_argument("id", help="the approval id (apr_...)")
    show.set_defaults(handler=_show)
    for action, verb in (("approve", "let the call run once"), ("deny", "refuse the call")):
        decide = approvals.add_parser(action, parents=[target], help=verb)
        decide.add_argument("id", help="the approval id (apr_...)")
        decide.add_argument("--reason", help="recorded in the audit log and shown to the agent")
        decide.set_defaults(handler=_decide, approve=action == "approve")

    rollback = commands.add_parser(
        "rollback",
        parents=[target],
        help="restore the file a write replaced, by a new commit (never a force push)",
    )
    rollback.add_argument(
        "target",
        help="the audit entry (seq) of the file write in this gateway's chain, or its snapshot id (snap_...,"
        " the entry's write.snapshot), which any replica can roll back",
    )
    rollback.set_defaults(handler=_rollback)


def _client(args: argparse.Namespace) -> AdminClient:
    return AdminClient.from_env(os.environ, url=args.url)


def _list(args: argparse.Namespace) -> int:
    answer = _client(args).call("GET", "/admin/approvals" + ("?all=true" if args.all else ""))
    approvals: list[dict[str, Any]] = answer.get("approvals", [])
    if args.json:
        print(json.dumps(approvals, indent=2, ensure_ascii=False))
    elif not approvals:
        print("no approvals" if args.all else "no pending approvals")
    for approval in [] if args.json else approvals:
        print(_describe(approval))
    return EXIT_OK


def _describe(approval: dict[str, Any]) -> str:
    where = approval["repo"] + (f":{approval['path']}" if approval.get("path") else "")
    arguments = json.dumps(approval["arguments"], ensure_ascii=False)
    if len(arguments) > 300:
        arguments = arguments[:240] + f"... (cut: `aegis approvals show {approval['id']}` prints all)"
    return (
        f"{approval['id']}  {approval['state']:8}  {approval['tool']} on {where}\n"
        f"    asked by {approval['principal']} at {approval['created']}, expires {approval['expires']}\n"
        f"    arguments {arguments}"
    )


def _show(args: argparse.Namespace) -> int:
    approvals: list[dict[str, Any]] = _client(args).call("GET", "/admin/approvals?all=true")["approvals"]
    found = [approval for approval in approvals if approval["id"] == args.id]
    if not found:
        raise AdminApiError(f"no approval {args.id!r} among the recent ones")
    print(json.dumps(found[0], indent=2, ensure_ascii=False))
    return EXIT_OK


def _decide(args: argparse.Namespace) -> int:
    body = {"id": args.id, **({"reason": args.reason} if args.reason else {})}
    path = "/admin/approvals/approve" if args.approve else "/admin/approvals/deny"
    approval = _client(args).call("POST", path, body)["approval"]
    print(f"{approval['id']}: {approval['state']} by {approval['decided_by']}")
    return EXIT_OK


def _rollback(args: argparse.Namespace) -> int:
    body: dict[str, int | str] = (
        {"seq": int(args.target)}
        if args.target.isascii() and args.target.isdigit()
        else {"snapshot": args.target}
    )
    result = _client(args).call("POST", "/admin/rollback", body)["rollback"]
    action = "removed" if result["deleted"] else f"restored to blob {result['restored_sha']}"
    print(
        f"{result['repo']}:{result['path']} on {result['branch']} {action} by commit {result['commit']}"
        f" (audit entry {result['audit_seq']})"
    )
    return EXIT_OK
