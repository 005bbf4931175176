"""`aegis jobs check|list|run`: the automation jobs file, checked, listed, and dry-run against an event."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

EXIT_OK, EXIT_FAILED = 0, 1


def add_jobs_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = commands.add_parser("jobs", help="automation jobs (docs/automation.md)").add_subparsers(
        required=True, metavar="ACTION"
    )
    source = argparse.ArgumentParser(add_help=False)
    source.add_argument("--jobs", type=Path, help="the jobs file (default: $AEGIS_JOBS)")

    check = jobs.add_parser(
        "check", parents=[source], help="validate the jobs file; errors name file:line:column"
    )
    check.set_defaults(handler=_check)
    list_ = jobs.add_parser("list", parents=[source], help="the jobs, their triggers and steps")
    list_.set_defaults(handler=_list)
    run = jobs.add_parser(
        "run",
        parents=[source],
        help="dry run: each step's arguments and the policy's decision for an event; nothing is executed",
    )
    run.add_argument("name", help="the job")
    run.add_argument("--event", type=Path, help="a Gitea webhook payload (JSON), for a webhook job")
    run.add_argument("--event-type", help="its X-Gitea-Event (default: the job's first event)")
    run.add_argument(
        "--repository",
        help="OWNER/NAME, for a scheduled job that runs per repository (its slot's run for it)",
    )
    run.add_argument("--default-branch", default="main", help="that repository's default branch (main)")
    run.add_argument("--policy", type=Path, help="the policy (default: $AEGIS_POLICY, else policy.yaml)")
    run.add_argument(
        "--write-mode",
        choices=("on", "off"),
        help="WRITE_MODE to decide under (default: $WRITE_MODE, else off)",
    )
    run.set_defaults(handler=_run)


def _jobs_file(args: argparse.Namespace) -> Path:
    from gateway.config import jobs_file_of

    path = args.jobs or jobs_file_of(os.environ)
    if path is None:
        raise ConfigError("no jobs file: pass --jobs FILE or set AEGIS_JOBS")
    return Path(path)


def _load(args: argparse.Namespace) -> Any:
    from gateway.automation import load_jobs
    from gateway.tools import default_registry

    return load_jobs(_jobs_file(args), known_tools={bound.tool.name for bound in default_registry()})


def _check(args: argparse.Namespace) -> int:
    from gateway.automation import JobsError

    try:
        jobs = _load(args)
    except JobsError as exc:
        print(exc, file=sys.stderr)  # one `file:line:column: message` per line, as editors read them
        return EXIT_FAILED
    print(f"{_jobs_file(args)}: OK, {len(jobs)} job(s)")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from gateway.automation import ScheduleTrigger

    for job in _load(args):
        trigger = job.trigger
        if isinstance(trigger, ScheduleTrigger):
            on = f"schedule {trigger.cron!r} (UTC, missed: {trigger.missed})"
        else:
            on = f"webhook {', '.join(trigger.events)}" + (
                f" [{', '.join(trigger.actions)}]" if trigger.actions else ""
            )
        steps = " -> ".join(f"{step.name}:{step.tool}" for step in job.steps)
        print(f"{job.name}  as {job.principal}  on {on}  ({job.source})\n  {steps}")
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from gateway.automation import WebhookTrigger, dry_run
    from gateway.config import default_opa_bin, policy_file_of, write_mode_of
    from gateway.tools import default_registry

    jobs = {job.name: job for job in _load(args)}
    job = jobs.get(args.name)
    if job is None:
        raise ConfigError(f"no job named {args.name!r} in {_jobs_file(args)}; `aegis jobs list` shows them")
    event: dict[str, Any] | None = None
    event_type = None
    if isinstance(job.trigger, WebhookTrigger):
        if args.event is None:
            raise ConfigError(f"{job.name} is started by webhooks: pass --event PAYLOAD.json")
        try:
            event = json.loads(args.event.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{args.event}: not a readable JSON webhook payload ({exc})") from exc
        if not isinstance(event, dict):
            raise ConfigError(f"{args.event}: a webhook payload is a JSON object")
        event_type = args.event_type or job.trigger.events[0]
    write_mode = args.write_mode == "on" if args.write_mode else write_mode_of(os.environ)
    policy = args.policy or policy_file_of(os.environ)
    print(
        dry_run(
            job,
            event=event,
            event_type=event_type,
            policy=policy,
            registry=default_registry(),
            write_mode=write_mode,
            opa_bin=default_opa_bin(os.environ),
            repository=(
                {"full_name": args.repository, "default_branch": args.default_branch}
                if args.repository
                else None
            ),
        )
    )
    return EXIT_OK
