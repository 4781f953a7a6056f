"""Every operator action as a command (README, "Actions from the command line").

`cmltui pause|resume|idle-detection|lab|licence …` go through the same backend calls as the
dashboard's keys, so the one precondition rule, the intent line before anything is sent, the
re-read before a stop or start, one StopInstances per region, the history tags, read-only mode
and the operator's name all hold. A command reads the fleet once, names its targets (an
unknown or ambiguous name sends nothing: exit 2), asks once on a terminal (`y/N`) unless
`--yes`, refuses with one line without a terminal and without `--yes`, and says what
`--dry-run` would send. Output: one line per worker (or lab), or with `--format json` the
activity events the action published, as the dashboard receives them. Exit 0 when all went
through, 1 when any was refused or failed (or the answer was no), 2 for usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cmltui.api.backend import ActionFailed, ActionRefused, Backend
from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import ActivityEvent, FleetSnapshot, IdleDetectionToggled, WorkerPaused
from cmltui.api.wording import describe_action
from cmltui.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE, say
from cmltui.cli.pick import LabPick, PickError, pick_labs, pick_workers
from cmltui.config import Config, ConfigError
from cmltui.credentials import run_credential_command
from cmltui.domain.rules import (
    LAB_ACTIONS,
    ActionKind,
    LabVerb,
    Shown,
    action_refusal,
    bulk_pause_choice,
    verb_of,
)
from cmltui.domain.sanitize import visible

BackendFactory = Callable[[argparse.Namespace, Config], Backend]
MAX_TOKEN_CHARS = 4096
TOKEN_COMMAND_TIMEOUT = 30.0


class UsageError(Exception):
    """The command names something that is not there, or is given wrong options (exit 2)."""


@dataclass(frozen=True)
class Target:
    """One thing an action is sent to: a worker, or one of its labs."""

    worker: CMLWorkerDto
    lab: LabPick | None = None

    @property
    def label(self) -> str:
        name = visible(self.worker.name, 120)
        if self.lab is None:
            return name
        return f"{name} lab {visible(self.lab.title or self.lab.id, 120)}"


@dataclass(frozen=True)
class Outcome:
    target: Target
    event: ActivityEvent | None = None
    problem: str | None = None


@dataclass
class Operation:
    """One command: what it is (for the rule and the words), what it names and how it sends."""

    kind: ActionKind
    events: frozenset[str]
    """The activity event types it publishes (what `--format json` prints)."""
    targets: Callable[[FleetSnapshot, argparse.Namespace, bool], list[Target]]
    send: Callable[[Backend, Target], Awaitable[ActivityEvent]]
    token: str | None = field(default=None, repr=False)
    enable: bool | None = None  # what a toggle sets

    @property
    def verb(self) -> str:
        return verb_of(self.kind)


def run_action(args: argparse.Namespace, config: Config, backend_for: BackendFactory) -> int:
    """The whole command; returns its exit status."""
    try:
        operation = _operation(args)
    except (UsageError, ConfigError) as exc:
        say(str(exc))
        return EXIT_USAGE
    if not args.dry_run and not args.yes and not sys.stdin.isatty():
        say(
            f"{operation.verb} not sent: no terminal to confirm on; "
            "pass --yes to act from a script (or --dry-run to see what it would send)"
        )
        return EXIT_FAILED
    backend = backend_for(args, config)
    return asyncio.run(_run(backend, operation, args))


async def _run(backend: Backend, operation: Operation, args: argparse.Namespace) -> int:
    published: list[ActivityEvent] = []
    backend.subscribe_activity(published.append)
    try:
        snapshot = await backend.prepare_actions()
        if not snapshot.workers and snapshot.errors:
            say("; ".join(snapshot.errors))
            return EXIT_FAILED
        read_only = backend.context.read_only
        try:
            targets = operation.targets(snapshot, args, read_only)
        except PickError as exc:
            say(str(exc))
            return EXIT_USAGE
        checked = [(target, _refusal(operation, target, read_only)) for target in targets]
        if args.dry_run:
            return _dry_run(backend, operation, checked, args.format)
        allowed = [target for target, why in checked if why is None]
        if not targets:
            say(f"nothing to {operation.verb}: no idle running worker")
            return EXIT_OK
        if allowed and not args.yes and not await _confirmed(operation, allowed):
            say(f"{operation.verb} cancelled; nothing sent")
            return EXIT_FAILED
        warnings: list[str] = []
        backend.subscribe_warnings(warnings.append)
        warnings.clear()  # only what this command leaves behind
        sent = iter(await _send(backend, operation, allowed))
        outcomes = [  # in the order they were named
            next(sent) if why is None else Outcome(target, problem=why) for target, why in checked
        ]
        for warning in warnings:
            say(warning)
        _report(operation, outcomes, published, args.format)
        return EXIT_OK if all(o.event is not None for o in outcomes) else EXIT_FAILED
    finally:
        await backend.close()


def _refusal(operation: Operation, target: Target, read_only: bool) -> str | None:
    """The one precondition rule, on the state the fleet read shows."""
    lab = target.lab
    worker = target.worker
    return action_refusal(
        operation.kind,
        name=worker.name,
        status=worker.status,
        read_only=read_only,
        idle_detection=worker.is_idle_detection_enabled,
        sets_detection=operation.enable,
        licence=worker.license_status,
        lab_title=(lab.title or lab.id) if lab else None,
        lab_state=lab.state if lab else None,
    )


def _dry_run(
    backend: Backend,
    operation: Operation,
    checked: Sequence[tuple[Target, str | None]],
    output: str,
) -> int:
    rows = []
    for target, why in checked:
        lab_id = target.lab.id if target.lab else None
        request = backend.request_text(
            operation.kind, target.worker.id, lab_id=lab_id, enable=operation.enable
        )
        rows.append((target, request, why))
    if output == "json":
        plan = [
            {
                "dry_run": True,
                "action": operation.kind,
                "worker_id": target.worker.id,
                "worker": target.worker.name,
                "lab_id": target.lab.id if target.lab else None,
                "request": request,
                "refused": why,
            }
            for target, request, why in rows
        ]
        _print_json(plan)
    else:
        for target, request, why in rows:
            if why is None:
                _line(f"would {operation.verb} {target.label} ({target.worker.id}): {request}")
            else:
                _line(f"would not {operation.verb} {target.label}: {why}")
        if not rows:
            _line(f"nothing to {operation.verb}")
        _line("(dry run: nothing sent)")
    return EXIT_OK if all(why is None for _t, _r, why in rows) else EXIT_FAILED


async def _confirmed(operation: Operation, targets: Sequence[Target]) -> bool:
    """Ask once, on the terminal; only `y` (or `yes`) is yes, and Enter is no."""
    names = ", ".join(target.label for target in targets[:10])
    more = f" and {len(targets) - 10} more" if len(targets) > 10 else ""
    question = f"{operation.verb.capitalize()} {names}{more}? [y/N] "
    print(question, end="", file=sys.stderr, flush=True)
    try:
        answer = await asyncio.to_thread(sys.stdin.readline)
    except (OSError, ValueError):
        return False
    return answer.strip().lower() in ("y", "yes")


async def _send(backend: Backend, operation: Operation, targets: list[Target]) -> list[Outcome]:
    if operation.kind == "pause" and len(targets) > 1:
        return await _pause_many(backend, targets)
    outcomes = []
    for target in targets:
        try:
            event = await operation.send(backend, target)
        except (ActionRefused, ActionFailed) as exc:
            outcomes.append(Outcome(target, problem=str(exc)))
        else:
            outcomes.append(Outcome(target, event))
    return outcomes


async def _pause_many(backend: Backend, targets: list[Target]) -> list[Outcome]:
    """One confirmation, one StopInstances per region; each worker's own outcome."""
    try:
        events = await backend.pause_many([target.worker.id for target in targets])
    except (ActionRefused, ActionFailed) as exc:
        return [Outcome(target, problem=str(exc)) for target in targets]
    by_worker = {event.worker_id: event for event in events}
    return [
        Outcome(target, by_worker.get(target.worker.id), problem="not paused (see above)")
        for target in targets
    ]


def _report(
    operation: Operation,
    outcomes: Sequence[Outcome],
    published: Sequence[ActivityEvent],
    output: str,
) -> None:
    if output == "json":
        ids = {outcome.target.worker.id for outcome in outcomes}
        _print_json(
            [
                event.to_dict()
                for event in published
                if event.worker_id in ids and event.type in operation.events
            ]
        )
        for outcome in outcomes:
            if outcome.event is None:
                say(_problem_line(operation, outcome))
        return
    for outcome in outcomes:
        if outcome.event is None:
            _line(_problem_line(operation, outcome))
        else:
            name = outcome.target.worker.name
            _line(describe_action(outcome.event, name) or f"{name}: {operation.verb} sent")


def _problem_line(operation: Operation, outcome: Outcome) -> str:
    """`name: pause not done: why` (each line starts with what it is about, for grep)."""
    why = outcome.problem or "not sent"
    named = f"{outcome.target.worker.name}: "
    why = why.removeprefix(named)  # the backend's message named the worker already
    if why.startswith(operation.verb):  # and the action: "register licence failed: …"
        return f"{outcome.target.label}: {why}"
    return f"{outcome.target.label}: {operation.verb} not done: {why}"


def _line(text: str) -> None:
    """One line of output: outside text in it made visible."""
    sys.stdout.write(visible(text, 2000) + "\n")


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, allow_nan=False) + "\n")


# --- the commands -----------------------------------------------------------------------------


def _operation(args: argparse.Namespace) -> Operation:
    command = args.command
    if command == "pause":
        if args.idle and args.workers:
            raise UsageError("pause: name workers or give --idle, not both")
        if not args.idle and not args.workers:
            raise UsageError("pause: name at least one WORKER, or give --idle")
        return Operation(
            "pause",
            frozenset({WorkerPaused.type}),
            _idle_workers if args.idle else _named_workers,
            lambda backend, target: backend.pause(target.worker.id),
        )
    if command == "resume":
        return Operation(
            "resume",
            frozenset({"worker.resumed"}),
            _named_workers,
            lambda backend, target: backend.resume(target.worker.id),
        )
    if command == "idle-detection":
        on = args.state == "on"
        return Operation(
            "toggle_idle_detection",
            frozenset({IdleDetectionToggled.type}),
            _named_workers,
            # the tag is written to what was asked, whatever it was before
            lambda backend, target: backend.toggle_idle_detection(target.worker.id, not on),
            enable=on,
        )
    if command == "lab":
        verb: LabVerb = args.verb
        return Operation(
            LAB_ACTIONS[verb],
            frozenset({"worker.lab.changed"}),
            _named_labs,
            lambda backend, target: _lab(backend, target, verb),
        )
    if command in ("licence", "license"):
        return _licence(args)
    raise UsageError(f"unknown command {command}")  # pragma: no cover - argparse chooses


def _licence(args: argparse.Namespace) -> Operation:
    given = args.token_env is not None or args.token_command is not None
    if args.verb == "deregister":
        if given or args.reregister:
            raise UsageError("licence deregister takes no token and no --reregister")
        return Operation(
            "deregister_licence",
            frozenset({"worker.license"}),
            _named_workers,
            lambda backend, target: backend.deregister_licence(target.worker.id),
        )
    if not given:
        raise UsageError("licence register: give --token-env VAR or --token-command CMD")
    operation = Operation(
        "register_licence",
        frozenset({"worker.license"}),
        _named_workers,
        lambda backend, target: backend.register_licence(
            target.worker.id, operation.token or "", reregister=args.reregister
        ),
    )
    operation.token = _token(args)
    return operation


def _token(args: argparse.Namespace) -> str:
    """The registration token, from a variable or a command (the one credential runner).

    It is never printed: every message here names where it came from, not what it is.
    """
    if args.token_command is not None:
        token = run_credential_command(
            args.token_command, key="--token-command", timeout=TOKEN_COMMAND_TIMEOUT
        ).strip()
        where = "--token-command"
    else:
        token = os.environ.get(args.token_env, "").strip()
        where = f"--token-env {args.token_env}"
        if not token:
            raise UsageError(f"{where}: the variable is not set (or empty)")
    if not token or len(token) > MAX_TOKEN_CHARS or any(c.isspace() for c in token):
        raise UsageError(f"{where}: not a registration token (empty, too long or has spaces)")
    return token


def _named_workers(
    snapshot: FleetSnapshot, args: argparse.Namespace, _read_only: bool
) -> list[Target]:
    names = args.workers if hasattr(args, "workers") else [args.worker]
    return [Target(dto) for dto in pick_workers(snapshot.workers, names)]


def _idle_workers(
    snapshot: FleetSnapshot, _args: argparse.Namespace, _read_only: bool
) -> list[Target]:
    """What `P` takes with nothing marked: every idle worker the rule lets pause."""
    by_id = {dto.id: dto for dto in snapshot.workers}
    chosen, _why = bulk_pause_choice(
        (Shown(dto.id, dto.name, dto.status, dto.idle_state) for dto in snapshot.workers),
        set(),
        read_only=False,  # read-only mode refuses each of them below, and says so
    )
    return [Target(by_id[shown.worker_id]) for shown in chosen]


def _named_labs(
    snapshot: FleetSnapshot, args: argparse.Namespace, _read_only: bool
) -> list[Target]:
    (worker,) = pick_workers(snapshot.workers, [args.worker])
    return [Target(worker, lab) for lab in pick_labs(worker, args.labs)]


async def _lab(backend: Backend, target: Target, verb: LabVerb) -> ActivityEvent:
    assert target.lab is not None
    return await backend.lab_action(target.worker.id, target.lab.id, verb)
