"""`aegis`: serve the gateway, run the demo, and manage policies, audit logs, keys, approvals, rollback and
automation jobs."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gateway.cli_admin import add_admin_commands
from gateway.cli_jobs import add_jobs_commands
from gateway.config import keys_file_of
from gateway.edge.keys import (
    DEFAULT_ROTATION_OVERLAP,
    DEFAULT_SCOPES,
    KNOWN_SCOPES,
    KeyRateLimit,
    create_key,
    exposure_warning,
    format_time,
    load_keys,
    parse_duration,
    parse_expiry,
    revoke_key,
    rotate_key,
)
from gateway.errors import GatewayError, KeyStoreError
from gateway.vocabulary import QuotaOverride

if TYPE_CHECKING:
    from gateway.audit import AnchoredReport
    from gateway.gitea import GiteaClient
    from gateway.tools import BoundTool

EXIT_OK, EXIT_FAILED = 0, 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except GatewayError as exc:
        print(f"aegis: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # `aegis keys list | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:  # a file the command needs: said in one line, as the other refusals are
        where = f": {exc.filename}" if exc.filename else ""
        print(f"aegis: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        if not _is_policy_error(exc):
            raise
        print(exc, file=sys.stderr)  # one `file:line:column: message` per line, as editors read them
        return EXIT_FAILED
    return code


def _is_policy_error(exc: Exception) -> bool:
    """Whether `exc` is the policy compiler's PolicyError, asked without importing the compiler: only a
    command that loaded it can have raised one, and the commands that do not (a query, a health check)
    start faster without it."""
    compiler = sys.modules.get("policy_compiler")
    return compiler is not None and isinstance(exc, compiler.PolicyError)


def _serve(args: argparse.Namespace) -> int:
    from gateway.config import Settings
    from gateway.server import serve

    settings = Settings.from_env(os.environ)
    if args.allow_insecure_bind:
        settings = dataclasses.replace(settings, allow_insecure_bind=True)
    scheme = "https" if settings.tls else "http"
    endpoint = f"Aegis MCP endpoint: {scheme}://{settings.bind_host}:{settings.bind_port}/mcp"
    serve(settings, announce=lambda: print(endpoint, flush=True))
    return EXIT_OK


def _health(args: argparse.Namespace) -> int:
    from gateway.probe import probe

    healthy, said = probe(os.environ, ready=args.ready)
    print(said.strip(), file=sys.stdout if healthy else sys.stderr)
    return EXIT_OK if healthy else EXIT_FAILED


def _demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo

    run_demo(state_dir=args.state_dir, env=os.environ)
    return EXIT_OK


def _policy_example(args: argparse.Namespace) -> int:
    from gateway.demo import EXAMPLE_POLICY

    sys.stdout.write(EXAMPLE_POLICY.read_text(encoding="utf-8"))
    return EXIT_OK


def _policy_check(args: argparse.Namespace) -> int:
    from policy_compiler import load_policy

    load_policy(args.file)
    print(f"{args.file}: OK")
    return EXIT_OK


def _policy_compile(args: argparse.Namespace) -> int:
    from policy_compiler import build_bundle, sign_bundle

    info = build_bundle(args.file, args.output)
    if args.signing_key:
        sign_bundle(info.path, signing_key=args.signing_key, algorithm=args.signing_alg, key_id=args.key_id)
    signed = f", signed ({args.signing_alg})" if args.signing_key else ""
    print(f"{info.path}: revision {info.revision}{signed}")
    return EXIT_OK


def _audit_query(args: argparse.Namespace) -> int:
    from gateway.cli_query import audit_query

    return audit_query(args)


def _audit_replay(args: argparse.Namespace) -> int:
    from gateway.cli_review import audit_replay

    return audit_replay(args)


def _audit_show(args: argparse.Namespace) -> int:
    from gateway.cli_review import audit_show

    return audit_show(args)


def _policy_show(args: argparse.Namespace) -> int:
    from gateway.cli_review import policy_show

    return policy_show(args)


def _policy_revisions(args: argparse.Namespace) -> int:
    from gateway.cli_review import policy_revisions

    return policy_revisions(args)


def _opa_bin() -> str:
    from gateway.config import default_opa_bin

    return default_opa_bin(os.environ)


def _policy_explain(args: argparse.Namespace) -> int:
    from gateway.authoring.explain import explain

    print(explain(args.policy, args.input, opa_bin=_opa_bin()))
    return EXIT_OK


def _policy_test(args: argparse.Namespace) -> int:
    from gateway.authoring.run_tests import run_policy_tests

    code = run_policy_tests(args.policy, args.tests, opa_bin=_opa_bin(), verbose=args.verbose)
    return EXIT_OK if code == 0 else EXIT_FAILED


def _policy_diff(args: argparse.Namespace) -> int:
    from gateway.authoring.diff import ToolShape, diff_policies
    from gateway.authoring.trees import TreeSpec, read_trees
    from gateway.tools import default_registry

    shapes = [
        ToolShape(
            name=bound.tool.name,
            capability=bound.tool.capability,
            repo_scoped=bound.tool.repo_scoped,
            path=_path_shape(bound),
            shows_paths=bound.tool.shows_paths,
            branch=bound.tool.branch_arg is not None,
        )
        for bound in default_registry()
    ]
    trees = read_trees([TreeSpec.parse(text) for text in args.tree], _gitea_client)
    diff = diff_policies(
        args.old,
        args.new,
        opa_bin=_opa_bin(),
        tools=shapes,
        write_mode=args.write_mode,
        at=args.at,
        trees=trees,
    )
    for change in diff.changes:
        print(change)
    if diff.unserved:
        print(f"not decided, the gateway serves no such tool: {', '.join(diff.unserved)}", file=sys.stderr)
    print(f"{len(diff.changes)} decision(s) change", file=sys.stderr)
    return EXIT_FAILED if diff.changes else EXIT_OK


def _path_shape(bound: BoundTool) -> Literal["none", "optional", "required"]:
    """Whether a tool takes a path: never, optionally, or always (its schema requires it)."""
    if bound.tool.path_arg is None:
        return "none"
    return "required" if bound.tool.path_arg in bound.schema.get("required", []) else "optional"


def _gitea_client() -> GiteaClient:
    """The Gitea client of the gateway's settings (AEGIS_GITEA_URL, AEGIS_GITEA_TOKEN, ...)."""
    from gateway.config import Settings
    from gateway.gitea import GiteaClient

    settings = Settings.from_env(os.environ)
    return GiteaClient(
        base_url=settings.require_upstream(), token=settings.gitea_token, timeout_s=settings.gitea_timeout_s
    )


def _audit_verify(args: argparse.Namespace) -> int:
    """Each file is its own chain (one per replica); every one is reported, and any broken fails."""
    if args.checkpoints is not None and len(args.files) > 1:
        print(
            "aegis: --checkpoints names the copy of one chain's checkpoints: verify one file", file=sys.stderr
        )
        return EXIT_FAILED
    if args.require_covered and args.public_key is None:
        print(
            "aegis: --require-covered needs --public-key: only a signature covers an entry", file=sys.stderr
        )
        return EXIT_FAILED
    results = [
        _verify_one(path, args.public_key, args.checkpoints, require_covered=args.require_covered)
        for path in args.files
    ]
    return EXIT_OK if all(results) else EXIT_FAILED


def _verify_one(
    path: Path, public_key: Path | None, checkpoints: Path | None, *, require_covered: bool = False
) -> bool:
    from gateway.audit import AnchorError, load_public_key, review_anchored, review_chain
    from gateway.errors import AuditChainError

    try:
        if public_key is None:
            report, signed = review_chain(path), None
        else:
            sink = checkpoints or path.with_name(path.name + ".checkpoints")
            anchored = review_anchored(path, load_public_key(public_key), sink)
            report, signed = anchored.chain, anchored
    except AuditChainError as exc:
        print(f"{path}: BROKEN at line {exc.line}: {exc.reason}", file=sys.stderr)
        return False
    except AnchorError as exc:
        print(f"{path}: CONTRADICTS ITS SIGNED CHECKPOINTS: {exc}", file=sys.stderr)
        return False
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
        return False
    if require_covered and signed is not None and signed.first_uncovered is not None:
        print(f"{path}: NOT COVERED: {_uncovered_reason(signed)}", file=sys.stderr)
        return False
    whose = f", replica {report.replica}" if report.replica else ""
    print(f"{path}: OK, {report.head.entries} entries, head {report.head.head_hash}{whose}")
    if signed is not None:
        through = f"entry {signed.signed.seq} ({signed.signed.ts})" if signed.signed else "no entry"
        print(
            f"{path}: signed through {through}; {signed.uncovered} entr(ies) after it not yet covered"
            " by a signature"
        )
    for intent in report.unfinished_intents:
        print(
            f"{path}: write intent without an outcome: seq {intent['seq']} {intent['ts']}"
            f" {intent['principal']} {intent['tool']} {intent['repo']} (request {intent['request_id']}):"
            " the gateway stopped while Gitea had the write; check there whether it happened"
        )
    return True


def _uncovered_reason(report: AnchoredReport) -> str:
    first, last = report.first_uncovered, report.chain.head.entries
    which = f"entry {first}" if first == last else f"entries {first} to {last}"
    after = f"the last signed checkpoint (of entry {report.signed.seq})" if report.signed else "no checkpoint"
    return (
        f"no signature covers {which}, after {after}: a gateway that stops cleanly signs its last"
        " entry, so another hand appended, or the gateway crashed or is still writing"
    )


def _audit_merge(args: argparse.Namespace) -> int:
    """Every entry of every chain, verified as read, as JSON lines ordered by time."""
    from gateway.audit import canonical_json, merged_chains
    from gateway.errors import AuditChainError

    try:
        for entry in merged_chains(args.files):
            sys.stdout.write(canonical_json(entry).decode("utf-8") + "\n")
    except AuditChainError as exc:
        print(f"aegis: BROKEN at line {exc.line}: {exc.reason}; nothing after it is shown", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _audit_keygen(args: argparse.Namespace) -> int:
    from gateway.audit import generate_signing_key, public_key_pem

    try:
        public_key = generate_signing_key(args.out)
    except FileExistsError:
        print(f"aegis: {args.out} exists; a signing key is never overwritten", file=sys.stderr)
        return EXIT_FAILED
    sys.stdout.buffer.write(public_key_pem(public_key))
    print(f"Signing key written to {args.out} (mode 0600); its public key is above.", file=sys.stderr)
    return EXIT_OK


def _audit_public_key(args: argparse.Namespace) -> int:
    from gateway.audit import CheckpointSigner, public_key_pem

    sys.stdout.buffer.write(public_key_pem(CheckpointSigner.load(args.signing_key).public_key))
    return EXIT_OK


def _audit_repair(args: argparse.Namespace) -> int:
    from gateway.audit import repair_torn_tail
    from gateway.errors import AuditChainError

    try:
        repair = repair_torn_tail(args.file)
    except AuditChainError as exc:
        print(
            f"{args.file}: BROKEN at line {exc.line}: {exc.reason}; repair moves only a torn last line"
            " aside, never a broken chain (keep the file as evidence)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if repair is None:
        print(f"{args.file}: the last line is whole; nothing to repair")
        return EXIT_OK
    print(
        f"{args.file}: moved {repair.removed_bytes} torn byte(s) to {repair.side_file}; recorded as entry"
        f" {repair.entry['seq']}"
    )
    return EXIT_OK


def _keys_create(args: argparse.Namespace) -> int:
    key = create_key(
        args.keys_file,
        name=args.name,
        scopes=tuple(args.scope or DEFAULT_SCOPES),
        expires=parse_expiry(args.expires) if args.expires else None,
        rate_limit=_rate_limit(args),
        write_quota=QuotaOverride(
            writes_per_day=args.writes_per_day,
            write_bytes_per_day=args.write_bytes_per_day,
            max_write_bytes=args.max_write_bytes,
        ),
    )
    print(key)
    print(
        f"Key {args.name!r} stored (hash only) in {args.keys_file}. It is shown this once.", file=sys.stderr
    )
    _warn_if_exposed(args.keys_file)
    return EXIT_OK


def _rate_limit(args: argparse.Namespace) -> KeyRateLimit | None:
    if args.rate is None and args.burst is None:
        return None
    if args.rate is None or args.burst is None:
        raise KeyStoreError("--rate and --burst go together")
    return KeyRateLimit(rate_per_s=args.rate, burst=args.burst)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(text)


def _keys_list(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    rows = [stored.summary(now) for stored in load_keys(args.keys_file)]
    print(json.dumps(rows, indent=2) if args.json else _key_table(rows))
    _warn_if_exposed(args.keys_file)
    return EXIT_OK


def _key_table(rows: list[dict[str, Any]]) -> str:
    header = ("NAME", "ID", "SCOPES", "CREATED", "AGE", "EXPIRES", "STATE", "RATE LIMIT")
    lines = [header] + [
        (
            row["name"],
            row["id"],
            ",".join(row["scopes"]),
            row["created"],
            _age(row["age_s"]),
            row["expires"] or "never",
            f"rotating until {row['expires']}" if row["state"] == "rotating" else row["state"],
            f"{row['rate']:g}/s burst {row['burst']}" if row["rate"] is not None else "default",
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    return "\n".join("  ".join(map(str.ljust, line, widths)).rstrip() for line in lines)


def _age(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def _keys_revoke(args: argparse.Namespace) -> int:
    for stored in revoke_key(args.keys_file, args.name, key_id=args.key_id):
        print(f"revoked {stored.name} (id {stored.id})")
    _warn_if_exposed(args.keys_file)
    return EXIT_OK


def _keys_rotate(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    overlap = parse_duration(args.overlap) if args.overlap else DEFAULT_ROTATION_OVERLAP
    expires = parse_expiry(args.expires) if args.expires else None
    key = rotate_key(args.keys_file, args.name, overlap=overlap, expires=expires, now=now)
    print(key)
    print(
        f"Key {args.name!r} rotated; the key(s) it replaces stay valid until {format_time(now + overlap)}"
        " at the latest. The new key is shown this once.",
        file=sys.stderr,
    )
    _warn_if_exposed(args.keys_file)
    return EXIT_OK


def _warn_if_exposed(keys_file: Path) -> None:
    warning = exposure_warning(keys_file)
    if warning:
        print(f"aegis: WARNING: {warning}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aegis", description="Aegis: an OPA-backed MCP gateway for Gitea.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="serve the gateway (configured by AEGIS_* environment variables)"
    )
    serve.add_argument(
        "--allow-insecure-bind",
        action="store_true",
        help="serve plain HTTP on a non-loopback address (only behind a proxy or mesh that terminates TLS)",
    )
    serve.set_defaults(handler=_serve)

    health = commands.add_parser(
        "health", help="exit 0 when the gateway at AEGIS_BIND is alive (--ready: ready to serve)"
    )
    health.add_argument("--ready", action="store_true", help="ask /readyz instead of /healthz")
    health.set_defaults(handler=_health)
    demo = commands.add_parser(
        "demo", help="serve the gateway against AEGIS_GITEA_URL, or a seeded demo Gitea when it is unset"
    )
    demo.add_argument(
        "--state-dir", type=Path, default=Path("var/demo"), help="where the demo keeps its state"
    )
    demo.set_defaults(handler=_demo)

    policy = commands.add_parser("policy", help="check and compile YAML policies").add_subparsers(
        required=True, metavar="ACTION"
    )
    example = policy.add_parser("example", help="print the example policy (the demo's) to start from")
    example.set_defaults(handler=_policy_example)
    check = policy.add_parser("check", help="validate a policy file; errors name file:line:column")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_policy_check)
    compile_ = policy.add_parser("compile", help="compile a policy file into an OPA bundle (.tar.gz)")
    compile_.add_argument("file", type=Path)
    compile_.add_argument("-o", "--output", type=Path, required=True)
    compile_.add_argument(
        "--signing-key", type=Path, help="PEM private key (or HMAC secret file) to sign with"
    )
    compile_.add_argument(
        "--signing-alg", default="RS256", help="JWT algorithm of the signature (default RS256)"
    )
    compile_.add_argument("--key-id", help="key id recorded in the signature")
    compile_.set_defaults(handler=_policy_compile)

    explain = policy.add_parser(
        "explain", help="print the decision for an OPA input and the YAML lines behind it"
    )
    explain.add_argument("policy", type=Path)
    explain.add_argument(
        "--input", type=Path, required=True, help="a JSON OPA input document (docs/contracts.md)"
    )
    explain.set_defaults(handler=_policy_explain)
    test = policy.add_parser(
        "test", help="opa test over the compiled policy, the core Rego and your *_test.rego"
    )
    test.add_argument("policy", type=Path)
    test.add_argument("tests", type=Path, nargs="*", help="your Rego test files or directories (optional)")
    test.add_argument("-v", "--verbose", action="store_true")
    test.set_defaults(handler=_policy_test)
    diff = policy.add_parser(
        "diff", help="list the calls (principal, tool, repository, path, branch) whose decision changes"
    )
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    diff.add_argument("--write-mode", action="store_true", help="decide as if WRITE_MODE were on")
    diff.add_argument(
        "--at", default=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), help="decision time (RFC 3339)"
    )
    diff.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="OWNER/REPO[@REF][=DIR]",
        help="also decide every path of this tree: from the configured Gitea, or from the git directory DIR",
    )
    diff.set_defaults(handler=_policy_diff)
    show = policy.add_parser(
        "show", help="print the YAML a served revision was compiled from (from the gateway's archive)"
    )
    show.add_argument("revision", help="a bundle revision, or 8 or more of its first hex digits")
    show.add_argument("--bundle", type=Path, help="write the revision's bundle to this file instead")
    show.set_defaults(handler=_policy_show)
    revisions = policy.add_parser("revisions", help="list the revisions the gateway served, latest first")
    revisions.set_defaults(handler=_policy_revisions)

    audit = commands.add_parser("audit", help="audit log tools").add_subparsers(
        required=True, metavar="ACTION"
    )
    verify = audit.add_parser(
        "verify", help="verify each file's hash chain (one per replica); exit 1 naming the first broken line"
    )
    verify.add_argument("files", type=Path, nargs="+", metavar="FILE")
    verify.add_argument(
        "--public-key", type=Path, help="also check the signed checkpoints against this Ed25519 public key"
    )
    verify.add_argument(
        "--checkpoints", type=Path, help="the checkpoints' copy outside the log (default: FILE.checkpoints)"
    )
    verify.add_argument(
        "--require-covered",
        action="store_true",
        help="with --public-key, fail when any entry follows the last signed checkpoint (its own entry"
        " aside): for a log whose gateway stopped cleanly, or a rotated segment",
    )
    verify.set_defaults(handler=_audit_verify)
    merge = audit.add_parser(
        "merge", help="the entries of several replicas' chains, each verified, as JSON lines ordered by time"
    )
    merge.add_argument("files", type=Path, nargs="+", metavar="FILE")
    merge.set_defaults(handler=_audit_merge)
    keygen = audit.add_parser(
        "keygen", help="create an Ed25519 key to sign checkpoints; prints its public key"
    )
    keygen.add_argument("out", type=Path, help="where to write the private key (PEM, mode 0600)")
    keygen.set_defaults(handler=_audit_keygen)
    public_key = audit.add_parser("public-key", help="print the public key of a checkpoint signing key")
    public_key.add_argument("signing_key", type=Path)
    public_key.set_defaults(handler=_audit_public_key)
    repair = audit.add_parser(
        "repair", help="move a torn last line (an interrupted write) to a side file and record that"
    )
    repair.add_argument("file", type=Path)
    repair.set_defaults(handler=_audit_repair)
    query = audit.add_parser(
        "query", help="the entries that match, ordered by time (an index beside each log keeps it fast)"
    )
    query.add_argument("files", type=Path, nargs="+", metavar="FILE", help="one chain per replica")
    for name, what in (
        ("principal", "who made the call"),
        ("credential-id", "the API key's id, or the OAuth token's jti"),
        ("tool", "the tool"),
        ("repo", "owner/name"),
        ("path", "a glob: * and ** match across /"),
        ("outcome", "allowed, denied, pending, invalid, error, ..."),
        ("rule", "a rule among the reasons, e.g. repo.acme/app.paths.allow[0]"),
        ("revision", "a bundle revision or its first hex digits"),
        ("event", "tool_call, policy_loaded, approval_decided, auth_failure, ..."),
        ("since", "RFC 3339 (2026-12-02, 2026-12-02T10:00:00Z) or a span before now (30m, 24h, 7d)"),
        ("until", "the same form; the bound is exclusive"),
    ):
        query.add_argument(f"--{name}", help=what)
    query.add_argument("--format", choices=("table", "json", "csv"), default="table")
    query.add_argument("--limit", type=int, help="at most this many entries")
    query.set_defaults(handler=_audit_query)
    show_entry = audit.add_parser(
        "show", help="one entry as the log holds it, its chain links, and the YAML lines of its reasons"
    )
    show_entry.add_argument("file", type=Path)
    show_entry.add_argument("seq", type=int)
    show_entry.set_defaults(handler=_audit_show)
    replay_parser = audit.add_parser(
        "replay",
        help="decide recorded calls again under their archived policies (must agree), or a candidate's",
    )
    replay_parser.add_argument("file", type=Path)
    replay_parser.add_argument("seqs", type=int, nargs="*", metavar="SEQ", help="default: every tool call")
    replay_parser.add_argument("--policy", type=Path, help="a candidate policy (YAML): what would change")
    replay_parser.set_defaults(handler=_audit_replay)

    _add_keys_commands(commands)
    add_admin_commands(commands)
    add_jobs_commands(commands)
    return parser


def _add_keys_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys_file = argparse.ArgumentParser(add_help=False)
    keys_file.add_argument(
        "--keys-file",
        type=Path,
        default=keys_file_of(os.environ),
        help="the keys file (default: $AEGIS_KEYS_FILE or var/keys.json)",
    )
    overlap_hours = DEFAULT_ROTATION_OVERLAP // timedelta(hours=1)
    expiry_help = "expiry: an RFC 3339 time (2026-12-31T23:59:59Z) or a duration from now (30d, 12h, 90m)"
    keys = commands.add_parser("keys", help="API keys").add_subparsers(required=True, metavar="ACTION")

    create = keys.add_parser(
        "create", parents=[keys_file], help="create a key; prints it once, stores only its SHA-256"
    )
    create.add_argument("--name", required=True)
    create.add_argument("--scope", action="append", choices=sorted(KNOWN_SCOPES), help="repeatable")
    create.add_argument("--expires", metavar="WHEN", help=expiry_help)
    create.add_argument("--rate", type=float, help="the key's own rate limit, requests per second")
    create.add_argument("--burst", type=int, help="the key's own burst (with --rate)")
    create.add_argument("--writes-per-day", type=_positive, help="the key's own quota of writes per UTC day")
    create.add_argument(
        "--write-bytes-per-day", type=_positive, help="its own quota of bytes written per day"
    )
    create.add_argument("--max-write-bytes", type=_positive, help="its own limit on the bytes of one write")
    create.set_defaults(handler=_keys_create)

    list_ = keys.add_parser(
        "list", parents=[keys_file], help="list keys and their state; never a key or hash"
    )
    list_.add_argument("--json", action="store_true", help="machine-readable output")
    list_.set_defaults(handler=_keys_list)

    revoke = keys.add_parser("revoke", parents=[keys_file], help="revoke the keys of a name, at once")
    revoke.add_argument("name")
    revoke.add_argument("--id", dest="key_id", help="revoke only the key with this id (see `keys list`)")
    revoke.set_defaults(handler=_keys_revoke)

    rotate = keys.add_parser(
        "rotate",
        parents=[keys_file],
        help="issue the next key of a name; the old one expires after an overlap",
    )
    rotate.add_argument("name")
    rotate.add_argument(
        "--overlap",
        metavar="DURATION",
        help=f"how long the replaced key(s) stay valid (default {overlap_hours}h)",
    )
    rotate.add_argument("--expires", metavar="WHEN", help=f"{expiry_help}; default: the old key's lifetime")
    rotate.set_defaults(handler=_keys_rotate)


if __name__ == "__main__":
    raise SystemExit(main())
