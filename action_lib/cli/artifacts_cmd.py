"""``rockshard artifacts populate|push|fetch|copy|ls|gc|info``: moving artifacts between stages."""

from __future__ import annotations

import argparse
import platform as host
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from action_lib.artifacts.descriptor import load_descriptor
from action_lib.artifacts.dist import assemble_dist
from action_lib.artifacts.extract import Layout
from action_lib.artifacts.fetch import FetchOptions, FetchResult, fetch
from action_lib.artifacts.names import COMPONENTS, GENERIC, check_part
from action_lib.artifacts.plan import fetch_plan, present, push_plan
from action_lib.artifacts.populate import populate
from action_lib.artifacts.push import Moved, copy_run, find_artifact_dirs
from action_lib.cache.records import is_cache_folder
from action_lib.cli import common
from action_lib.cli.common import (
    add_family_arg,
    add_format_arg,
    add_jobs_arg,
    add_store_args,
    add_topology_arg,
)
from action_lib.cli.output import emit_json, table
from action_lib.edges import gha
from action_lib.edges.progress import Progress, human
from action_lib.errors import InputError
from action_lib.families import expand_families
from action_lib.inputs.lists import parse_list
from action_lib.inputs.untrusted import escape, md_code
from action_lib.jobs.model import StageJob
from action_lib.jobs.stage_artifacts import push_stage, stage_remotes
from action_lib.settings import environment as env
from action_lib.settings.cache import CACHE_MODES, cache_mode
from action_lib.topology.queries import produced_artifacts


def _progress(label: str, total: int) -> Progress:
    return Progress(label, total, sys.stderr, env.is_tty(sys.stderr))


def _report(
    args: argparse.Namespace,
    verb: str,
    ctx: common.Context,
    moved: Sequence[Moved],
    extra: dict[str, Any] | None = None,
) -> None:
    total = sum(m.size for m in moved)
    location = ctx.store.location(ctx.run)
    if args.format == "json":
        emit_json(
            {
                "command": verb,
                "store": ctx.store.url,
                "location": location,
                "run": ctx.run,
                "bytes": total,
                "artifacts": [
                    {"archive": m.filename, "bytes": m.size, "sha256": m.digest, "status": m.status}
                    for m in moved
                ],
                **(extra or {}),
            }
        )
    else:
        rows = [(m.filename, human(m.size), m.status, m.digest[:12]) for m in moved]
        if rows:
            table(("archive", "size", "status", "sha256"), rows)
        print(f"{verb}: {len(moved)} archive(s), {human(total)}, {location}")
    if common.gha_output(args):
        gha.set_output("artifacts", " ".join(m.filename for m in moved))
        gha.set_output("count", str(len(moved)))
        gha.set_output("bytes", str(total))
        gha.set_output("store-url", location)
        lines = [
            f"### rockshard artifacts {verb}: {len(moved)} archive(s), {human(total)}",
            "",
            f"Store: {md_code(location)}",
            "",
            "| archive | size | status | sha256 |",
            "| --- | ---: | --- | --- |",
        ]
        lines += [
            # Archive names are rockshard's own (letters, digits, '.', '+', '-', '_').
            f"| `{m.filename}` | {human(m.size)} | {m.status} | `{m.digest[:12]}` |"
            for m in moved
        ]
        gha.append_summary("\n".join(lines) + "\n")


def _timing(bar: Progress, verb: str, moved: Sequence[Moved], seconds: float) -> None:
    total = sum(m.size for m in moved)
    rate = human(total / seconds) if seconds > 0 else "-"
    bar.note(f"{verb} {len(moved)} archive(s), {human(total)} in {seconds:.1f}s ({rate}/s)")


def _cmd_populate(args: argparse.Namespace) -> int:
    check_part("name", args.name)
    check_part("target", args.target)
    descriptor = load_descriptor(args.descriptor, args.name, host.system())
    targets: tuple[str, ...] = ()
    if args.target != GENERIC:
        targets = parse_list(args.amdgpu_targets) or expand_families([args.target])
    written = populate(descriptor, args.root_dir, args.output_dir, args.target, targets)
    if args.format == "json":
        emit_json(
            [
                {"directory": d.name.stem, "path": str(d.path), "files": d.files, "bytes": d.bytes}
                for d in written
            ]
        )
    else:
        table(
            ("directory", "files", "size"),
            [(d.name.stem, d.files, human(d.bytes)) for d in written],
        )
    return 0


def _stage_job(args: argparse.Namespace, ctx: common.Context, what: str) -> StageJob:
    stage = str(ctx.layers.resolve("", flag="stage", input="stage").value)
    if not stage:
        raise InputError(f"{what} needs --stage")
    topo = common.resolved_topology(args, ctx.layers)
    return common.stage_job(topo, stage, ctx.conditions, ctx.layers)


def _cmd_push(args: argparse.Namespace) -> int:
    ctx = common.store_context(args)
    build_dir = common.setting_path(ctx.layers, "build_dir").value
    if build_dir is None:
        raise InputError("push needs --stage and --build-dir")
    job = _stage_job(args, ctx, "push")
    wanted = push_plan(job.topology, job.stage, job.conditions, job.families)
    dirs = find_artifact_dirs(build_dir / "artifacts", wanted)
    total = sum(p.stat().st_size for _, d in dirs for p in d.rglob("*") if p.is_file())
    bar = _progress(f"push {job.label}", total)
    mode = cache_mode(ctx.layers).value
    notes: dict[str, Any] = {}
    annotate = None
    if mode != "off":
        from action_lib.jobs.cache_stage import push_annotation

        recorder = push_annotation(job, ctx.target, build_dir, mode=mode, environ=env.environ())

        def annotate(moved: list[Moved]) -> dict[str, Any]:
            notes.update(recorder(moved))
            return notes

    try:
        moved = push_stage(
            job,
            ctx.target,
            build_dir,
            compression=args.compression,
            level=args.level,
            jobs=ctx.settings.jobs.value,
            overwrite=args.overwrite,
            progress=bar,
            annotate=annotate,
        )
    finally:
        seconds = bar.close()
    _timing(bar, "pushed", moved, seconds)
    extra: dict[str, Any] = {"stage": job.stage, "seconds": round(seconds, 3)}
    cache = notes.get("cache")
    if cache:
        extra["cache"] = cache
        line = f"stage cache: record of {job.label} {cache.get('record', '')}"
        sys.stderr.write(line + "\n")
        if common.gha_output(args):
            gha.set_output("cache-record", str(cache.get("record", "")))
            gha.append_summary(line + "\n")
    _report(args, "push", ctx, moved, extra)
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    ctx = common.store_context(args)
    output_dir = common.setting_path(ctx.layers, "output_dir").value
    if output_dir is None:
        raise InputError("fetch needs --stage and --output-dir")
    bootstrap = args.bootstrap or ctx.layers.inputs.get("bootstrap", "").lower() == "true"
    if bootstrap and args.flatten:
        raise InputError("--bootstrap and --flatten exclude each other")
    bad = [c for c in parse_list(args.exclude_components) if c not in COMPONENTS]
    if bad:
        raise InputError(
            f"unknown component(s) {', '.join(bad)} (components: {', '.join(COMPONENTS)})"
        )
    job = _stage_job(args, ctx, "fetch")
    chosen = stage_remotes(
        job,
        ctx.target,
        exclude_artifacts=parse_list(args.exclude_artifacts),
        exclude_components=parse_list(args.exclude_components),
    )
    layout: Layout = "bootstrap" if bootstrap else "flatten" if args.flatten else "dirs"
    options = FetchOptions(
        layout=layout,
        extract=not args.no_extract,
        cache_dir=args.download_cache_dir,
        jobs=ctx.settings.jobs.value,
    )
    bar = _progress(f"fetch {job.label}", sum(r.size for r in chosen))
    try:
        result: FetchResult = fetch(ctx.store, ctx.run, chosen, output_dir, options, bar)
    finally:
        seconds = bar.close()
    _timing(bar, "fetched", result.moved, seconds)
    for rel in result.copied_links:
        sys.stderr.write(
            f"rockshard: note: symlink {escape(rel)} extracted as a copy (no symlink privilege)\n"
        )
    extra = {
        "stage": job.stage,
        "layout": layout,
        "markers": result.markers,
        "files": result.files,
        "content_bytes": result.content_bytes,
        "seconds": round(seconds, 3),
    }
    _report(args, "fetch", ctx, result.moved, extra)
    return 0


def _cmd_copy(args: argparse.Namespace) -> int:
    ctx = common.store_context(args)
    topo = common.topology(args)
    source = common.store_context(args, run_id=args.source_run_id)
    artifacts = None
    if args.stage:
        artifacts = sorted(
            {a for s in parse_list(args.stage) for a in produced_artifacts(topo, s, ctx.conditions)}
        )
    moved = copy_run(
        ctx.store, source.run, ctx.run, artifacts, dry_run=args.dry_run, overwrite=args.overwrite
    )
    _report(
        args,
        "copy",
        ctx,
        moved,
        {"source": ctx.store.location(source.run), "dry_run": args.dry_run},
    )
    return 0


def _cmd_ls(args: argparse.Namespace) -> int:
    ctx = common.store_context(args)
    if args.all_runs:
        runs = [r for r in ctx.store.runs() if not is_cache_folder(r)]
        if args.format == "json":
            emit_json({"store": ctx.store.url, "runs": runs})
        else:
            for run in runs:
                print(run)
        return 0
    listing = ctx.store.listing(ctx.run)
    archives = present(listing)
    if args.format == "json":
        emit_json(
            {
                "location": ctx.store.location(ctx.run),
                "artifacts": [{"archive": r.filename, "bytes": r.size} for r in archives.values()],
            }
        )
    else:
        table(("archive", "size"), [(r.filename, human(r.size)) for r in archives.values()])
        print(f"{len(archives)} archive(s) in {ctx.store.location(ctx.run)}")
    return 0


def _cmd_gc(args: argparse.Namespace) -> int:
    if args.older_than < 0:
        raise InputError(f"--older-than {args.older_than:g}: must be 0 or more seconds")
    ctx = common.store_context(args)
    run = None if args.all_runs else ctx.run
    found = ctx.store.gc(run, args.older_than, dry_run=args.dry_run)
    where = ctx.store.url if run is None else ctx.store.location(run)
    verb = "would remove" if args.dry_run else "removed"
    if args.format == "json":
        emit_json({"store": ctx.store.url, "run": run, "dry_run": args.dry_run, "leftovers": found})
    else:
        for line in found:
            print(f"{verb} {line}")
        print(f"gc: {verb} {len(found)} leftover(s) in {where}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    ctx = common.store_context(args)
    job = _stage_job(args, ctx, "info")
    topo, families = job.topology, job.families
    listing = ctx.store.listing(ctx.run)
    archives = present(listing)
    rows: list[dict[str, Any]] = []
    for direction, wanted in (
        ("fetch", fetch_plan(topo, args.stage, ctx.conditions, families)),
        ("push", push_plan(topo, args.stage, ctx.conditions, families)),
    ):
        for w in wanted:
            found = [
                r for n, r in archives.items() if n.name == w.artifact and n.target == w.target
            ]
            rows.append(
                {
                    "direction": direction,
                    "artifact": w.artifact,
                    "target": w.target,
                    "stage": w.stage,
                    "archives": [r.filename for r in found],
                    "bytes": sum(r.size for r in found) if found else None,
                }
            )
    if args.format == "json":
        emit_json({"stage": args.stage, "location": ctx.store.location(ctx.run), "artifacts": rows})
    else:
        table(
            ("direction", "artifact", "target", "from stage", "archives", "size"),
            [
                (
                    r["direction"],
                    r["artifact"],
                    r["target"],
                    r["stage"],
                    len(r["archives"]) or "absent",
                    human(r["bytes"]) if r["bytes"] is not None else "-",
                )
                for r in rows
            ],
        )
    return 0


def _cmd_dist(args: argparse.Namespace) -> int:
    stage_dirs = list(args.stage_dir)
    if args.stage_dirs_file is not None:
        try:
            lines = args.stage_dirs_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(
                f"{args.stage_dirs_file}: cannot read: {exc.strerror or exc}"
            ) from None
        stage_dirs += [line.strip() for line in lines if line.strip()]
    if not stage_dirs:
        raise InputError("dist needs --stage-dir or --stage-dirs-file")
    result = assemble_dist(args.root_dir, stage_dirs, args.output)
    print(f"dist: {result.files} files from {result.stage_dirs} stage dirs in {args.output}")
    return 0


def register(commands: Any) -> None:
    """Add ``artifacts`` and its sub-commands."""
    parser = commands.add_parser("artifacts", help="populate, push, fetch and copy artifacts")
    sub = parser.add_subparsers(dest="artifacts_command", metavar="COMMAND", required=True)

    p = sub.add_parser("populate", help="sort a build's stage dirs into artifact dirs")
    p.add_argument("--descriptor", type=Path, required=True, help="artifact descriptor TOML")
    p.add_argument("--root-dir", type=Path, required=True, help="the build dir")
    p.add_argument("--name", required=True, help="artifact name")
    p.add_argument("--target", default=GENERIC, help="'generic' or the GPU family built")
    p.add_argument("--output-dir", type=Path, required=True, help="usually BUILD/artifacts")
    p.add_argument("--amdgpu-targets", help="gfx targets of the family, e.g. 'gfx1100;gfx1101'")
    add_format_arg(p)
    p.set_defaults(handler=_cmd_populate)

    p = sub.add_parser("dist", help="assemble a product tree from stage dirs")
    p.add_argument("--root-dir", type=Path, required=True, help="the build dir")
    p.add_argument("--stage-dir", action="append", default=[], help="a stage dir under the root")
    p.add_argument("--stage-dirs-file", type=Path, help="stage dirs, one a line")
    p.add_argument("--output", type=Path, required=True, help="the dist dir to (re)create")
    p.set_defaults(handler=_cmd_dist)

    p = sub.add_parser("push", help="archive and upload the artifacts a stage produces")
    add_topology_arg(p)
    p.add_argument("--stage")
    add_family_arg(p)
    p.add_argument("--build-dir", type=Path)
    p.add_argument("--compression", choices=("zstd", "xz"), default="zstd")
    p.add_argument("--level", type=int, help="compression level (zstd 3, xz 6)")
    add_jobs_arg(p)
    p.add_argument("--overwrite", action="store_true", help="replace different content")
    p.add_argument(
        "--cache",
        choices=CACHE_MODES,
        default=None,
        help="then write the stage's cache record under its static and content keys, when "
        "the run may (default: ROCKSHARD_CACHE, else off)",
    )
    add_store_args(p)
    p.set_defaults(handler=_cmd_push)

    p = sub.add_parser("fetch", help="download, verify and extract a stage's inbound artifacts")
    add_topology_arg(p)
    p.add_argument("--stage")
    add_family_arg(p, help="the GPU family of the per-arch stage fetching")
    p.add_argument("--output-dir", type=Path)
    p.add_argument("--bootstrap", action="store_true", help="lay out as a build dir + .prebuilt")
    p.add_argument("--flatten", action="store_true", help="merge every stage dir's contents")
    p.add_argument("--no-extract", action="store_true", help="only download and verify")
    p.add_argument("--download-cache-dir", type=Path)
    p.add_argument("--exclude-components", help="e.g. dbg,doc")
    p.add_argument("--exclude-artifacts", help="artifact names")
    add_jobs_arg(p)
    add_store_args(p)
    p.set_defaults(handler=_cmd_fetch)

    p = sub.add_parser("copy", help="copy artifacts of another run into this run")
    add_topology_arg(p)
    p.add_argument("--source-run-id", required=True)
    p.add_argument("--stage", help="only what these stages produce (',' separated)")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--overwrite", action="store_true")
    add_store_args(p)
    p.set_defaults(handler=_cmd_copy)

    p = sub.add_parser("ls", help="list a run's complete archives")
    p.add_argument("--all-runs", action="store_true", help="list the run folders instead")
    add_store_args(p, conditions_too=False)
    p.set_defaults(handler=_cmd_ls)

    p = sub.add_parser(
        "gc", help="remove what killed pushes left: temporary files, incomplete uploads"
    )
    p.add_argument("--all-runs", action="store_true", help="every run of the store, not one")
    p.add_argument(
        "--older-than",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="only leftovers started this long ago (default: %(default)g; a live push's are "
        "younger); temporary files of dead processes of this host go at any age",
    )
    p.add_argument("--dry-run", action="store_true", help="list, do not remove")
    add_store_args(p, conditions_too=False)
    p.set_defaults(handler=_cmd_gc)

    p = sub.add_parser("info", help="what a stage would fetch and push, with sizes when present")
    add_topology_arg(p)
    p.add_argument("--stage", required=True)
    add_family_arg(p)
    add_store_args(p)
    p.set_defaults(handler=_cmd_info)
