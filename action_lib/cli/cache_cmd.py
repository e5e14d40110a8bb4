"""``rockshard cache key|explain|ls|prune``: stage keys and the cache records of a store."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from action_lib.cache.explain import describe, diff_inputs
from action_lib.cache.keys import StageKey, job_label
from action_lib.cache.lookup import list_records, read_records, verify
from action_lib.cache.records import LATEST, CacheRecord
from action_lib.cli import common
from action_lib.cli.output import emit_json, table
from action_lib.errors import EXIT_OK, InputError
from action_lib.jobs.cache_plan import key_computer
from action_lib.jobs.model import StageJob
from action_lib.settings import environment
from action_lib.settings.pipeline_file import CONFIG_NAME, load_pipeline_config, settings_path
from action_lib.topology.model import Conditions


def _stage_key(args: argparse.Namespace) -> tuple[StageKey, str, tuple[str, ...]]:
    """The key of ``--stage`` (and family), the commit, and the uncommitted paths it saw."""
    topology = common.topology(args)
    conditions = Conditions(args.platform, args.processor, frozenset(args.flag))
    stages = tuple(topology.build_stages)
    config = load_pipeline_config(args.config, args.topology, stages)
    job = StageJob(topology, args.stage, conditions, args.amdgpu_family or "")
    if job.per_arch and not job.family:
        raise InputError(f"stage '{job.stage}' is per-arch: give --amdgpu-family")
    computer = key_computer(
        topology,
        conditions,
        config,
        args.repo,
        args.topology,
        settings_path(args.config, args.topology),
        environment.environ(),
        rev=args.rev,
        worktree=not args.committed,
    )
    key = computer.key(job.stage, job.family)
    computer.raise_findings()
    return key, computer.ctx.tree.commit, computer.ctx.tree.dirty


def _cmd_key(args: argparse.Namespace) -> int:
    key, commit, dirty = _stage_key(args)
    if args.format == "json":
        emit_json(
            {"stage": key.stage, "family": key.family, "key": key.key, "inputs": dict(key.inputs)}
        )
        return EXIT_OK
    note = f" and {len(dirty)} uncommitted change(s)" if dirty else ""
    sys.stdout.write(f"{key.label} on {args.platform}: key {key.key}\n")
    sys.stdout.write(f"from commit {commit[:12]}{note}; inputs:\n")
    table(("input", "value"), sorted(key.inputs.items()))
    return EXIT_OK


def _nearest(key: StageKey, records: list[CacheRecord]) -> CacheRecord | None:
    """The record with the fewest differing inputs; the latest one on a tie."""
    if not records:
        return None
    latest_first = sorted(records, key=lambda r: (r.created, r.key), reverse=True)
    return min(latest_first, key=lambda r: len(diff_inputs(r.inputs, key.inputs)))


def _cmd_explain(args: argparse.Namespace) -> int:
    key, commit, _dirty = _stage_key(args)
    ctx = common.store_context(args)
    listed = [r for r in list_records(ctx.store, key.stage, key.family) if r.key != LATEST]
    records = [r for _, r in read_records(ctx.store, listed) if r is not None]
    own = [r for r in records if r.key == key.key]
    data: dict[str, Any] = {"stage": key.stage, "family": key.family, "key": key.key}
    lines: list[str] = []
    if own:
        problem = verify(ctx.store, own[0])
        data["status"] = "unusable" if problem else "hit"
        data["record"] = {"run": own[0].run, "commit": own[0].commit, "created": own[0].created}
        lines.append(
            f"{key.label}: key {key.key[:12]} has a record (run {own[0].run}, commit "
            f"{own[0].commit[:12]}, written {own[0].created})"
            + (f", but it is unusable: {problem}" if problem else ": a hit")
        )
    near = _nearest(key, [r for r in records if r.key != key.key])
    if near is not None and not own:
        changes = diff_inputs(near.inputs, key.inputs)
        data["status"] = "miss"
        data["nearest"] = {
            "run": near.run,
            "commit": near.commit,
            "created": near.created,
            "key": near.key,
        }
        data["changes"] = [
            {"input": c.name, "old": c.old, "new": c.new, "text": describe(c, key.kinds)}
            for c in changes
        ]
        lines.append(
            f"{key.label}: no record of key {key.key[:12]} (commit {commit[:12]}); nearest: run "
            f"{near.run}, commit {near.commit[:12]}, written {near.created}; "
            f"{len(changes)} input(s) differ:"
        )
        lines += [f"  {describe(c, key.kinds)}" for c in changes]
    elif not own:
        data["status"] = "no-records"
        lines.append(f"{key.label}: no record of this job in {ctx.store.url} yet")
    if args.format == "json":
        emit_json(data)
    else:
        sys.stdout.write("".join(line + "\n" for line in lines))
    return EXIT_OK


def _cmd_ls(args: argparse.Namespace) -> int:
    ctx = common.store_context(args)
    listed = [
        r for r in list_records(ctx.store, args.stage or "", args.amdgpu_family) if r.key != LATEST
    ]
    rows: list[dict[str, Any]] = []
    for item, record in read_records(ctx.store, listed):
        if record is None:
            rows.append({"name": item.name, "stage": item.stage, "family": item.family})
            continue
        rows.append(
            {
                "name": item.name,
                "stage": record.stage,
                "family": record.family,
                "key": item.key,
                "kind": "static" if item.key == record.key else "content",
                "run": record.run,
                "commit": record.commit,
                "created": record.created,
                "archives": len(record.archives),
                "bytes": sum(a.size for a in record.archives.values()),
            }
        )
    if args.format == "json":
        emit_json({"store": ctx.store.url, "records": rows})
        return EXIT_OK
    table(
        ("job", "key", "kind", "run", "commit", "written", "archives"),
        [
            (
                job_label(r["stage"], r["family"]),
                str(r.get("key", ""))[:12],
                r.get("kind", "malformed"),
                r.get("run", "-"),
                str(r.get("commit", ""))[:12],
                r.get("created", "-"),
                r.get("archives", "-"),
            )
            for r in rows
        ],
    )
    sys.stdout.write(f"{len(rows)} record(s) in {ctx.store.url}/cache\n")
    return EXIT_OK


def _cmd_prune(args: argparse.Namespace) -> int:
    from action_lib.cache.lookup import prune

    ctx = common.store_context(args)
    removed = prune(
        ctx.store, args.older_than, now=datetime.now(timezone.utc), dry_run=args.dry_run
    )
    verb = "would remove" if args.dry_run else "removed"
    if args.format == "json":
        emit_json(
            {
                "store": ctx.store.url,
                "dry_run": args.dry_run,
                "removed": [{"name": i.name, "why": why} for i, why in removed],
            }
        )
        return EXIT_OK
    for item, why in removed:
        sys.stdout.write(f"{verb} {item.name} ({why})\n")
    sys.stdout.write(f"{verb} {len(removed)} record(s) from {ctx.store.url}/cache\n")
    return EXIT_OK


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of days") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _key_args(p: argparse.ArgumentParser) -> None:
    common.add_topology_arg(p)
    p.add_argument("--stage", required=True, help="build stage")
    common.add_family_arg(p)
    p.add_argument("--platform", required=True, choices=("linux", "windows"))
    p.add_argument("--processor", choices=("x86_64", "aarch64", "ppc64le"))
    p.add_argument("--flag", action="append", default=[], metavar="NAME", help="enabled flag")
    p.add_argument("--repo", type=Path, default=Path(), help="the superproject's git checkout")
    p.add_argument("--rev", default="HEAD", help="the commit whose tree is read (default HEAD)")
    p.add_argument(
        "--committed",
        action="store_true",
        help="ignore the checkout's uncommitted changes (keys of HEAD as committed)",
    )
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"pipeline settings with [inputs] (default: {CONFIG_NAME} beside the topology)",
    )
    common.add_format_arg(p)


def _store_args(p: argparse.ArgumentParser, *, fmt: bool = True) -> None:
    p.add_argument("--store", default=None, help="s3://bucket/prefix, or a directory")
    p.add_argument("--local-staging-dir", type=Path, help="the local store")
    p.add_argument("--endpoint-url", help="S3-compatible endpoint (default: AWS_ENDPOINT_URL)")
    if fmt:
        common.add_format_arg(p)


def register(commands: Any) -> None:
    """Add ``cache`` and its sub-commands."""
    parser = commands.add_parser(
        "cache",
        help="stage keys and cache records",
        description="Stage keys (what a stage's result depends on) and the cache records of a "
        "store (which archives a key stands for).",
    )
    sub = parser.add_subparsers(dest="cache_command", metavar="COMMAND", required=True)
    p = sub.add_parser("key", help="a stage's key and its named inputs")
    _key_args(p)
    p.set_defaults(handler=_cmd_key)
    p = sub.add_parser("explain", help="the inputs that differ from the stage's nearest record")
    _key_args(p)
    _store_args(p, fmt=False)
    p.set_defaults(handler=_cmd_explain)
    p = sub.add_parser("ls", help="list the cache records of a store")
    p.add_argument("--stage", help="only this stage's records")
    common.add_family_arg(p, help="only this family's records")
    _store_args(p)
    p.set_defaults(handler=_cmd_ls)
    p = sub.add_parser("prune", help="remove records older than some days")
    p.add_argument("--older-than", type=_days, required=True, metavar="DAYS")
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    _store_args(p)
    p.set_defaults(handler=_cmd_prune)
