"""``rockshard artifacts populate|push|fetch|copy|ls|info``: moving artifacts between stages."""

from __future__ import annotations

import argparse
import os
import platform as host
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from action_lib.artifacts.descriptor import load_descriptor
from action_lib.artifacts.dist import assemble_dist
from action_lib.artifacts.fetch import FetchOptions, FetchResult, fetch
from action_lib.artifacts.names import COMPONENTS, GENERIC, check_part
from action_lib.artifacts.plan import fetch_plan, present, push_plan
from action_lib.artifacts.populate import populate
from action_lib.artifacts.push import Moved, copy_run, find_artifact_dirs
from action_lib.cli.common import (
    add_condition_args,
    add_format_arg,
    add_topology_arg,
    topology,
)
from action_lib.cli.output import emit_json, table
from action_lib.edges import gha
from action_lib.edges.progress import Progress, human
from action_lib.errors import InputError
from action_lib.families import expand_families, split_list
from action_lib.jobs.stage_artifacts import push_stage, stage_remotes
from action_lib.settings import environment as env
from action_lib.stores.base import Store, open_store
from action_lib.topology.model import Conditions, Topology
from action_lib.topology.queries import produced_artifacts

DEFAULT_JOBS = max(1, min(8, os.cpu_count() or 1))
# argument -> action input (read as INPUT_<NAME> through actions-toolkit)
PUSH_INPUTS = {
    "stage": "stage",
    "amdgpu_families": "amdgpu_family",
    "run_id": "run_id",
    "platform": "platform",
    "store": "store",
    "build_dir": "build_dir",
    "topology": "topology",
    "jobs": "jobs",
}
FETCH_INPUTS = {
    **{k: v for k, v in PUSH_INPUTS.items() if k != "build_dir"},
    "output_dir": "output_dir",
    "bootstrap": "bootstrap",
}


@dataclass(frozen=True)
class Context:
    """Where artifacts go: the store, the run folder, the platform and the conditions."""

    store: Store
    run: str
    platform: str
    conditions: Conditions


def _csv(text: str | None) -> tuple[str, ...]:
    return split_list(text or "")


def add_store_args(parser: argparse.ArgumentParser, *, conditions_too: bool = True) -> None:
    if conditions_too:
        add_condition_args(parser)
    else:
        parser.add_argument("--platform", choices=("linux", "windows"), help="default: this host's")
    parser.add_argument(
        "--run-id", help="default: THEROCK_RUN_ID, else GITHUB_RUN_ID, else 'local'"
    )
    parser.add_argument(
        "--store", default=None, help="s3://bucket/prefix, or a directory; empty: the local store"
    )
    parser.add_argument(
        "--local-staging-dir",
        help="the local store (default: THEROCK_LOCAL_STAGING_DIR, else a per-user cache dir)",
    )
    parser.add_argument("--endpoint-url", help="S3-compatible endpoint (default: AWS_ENDPOINT_URL)")
    parser.add_argument(
        "--external-repo",
        metavar="OWNER/REPO",
        help="runs of another repository: OWNER-REPO/ prefix",
    )
    parser.add_argument("--gha", action="store_true", help="read action inputs (INPUT_*)")
    add_format_arg(parser)


def _apply_inputs(args: argparse.Namespace, names: dict[str, str]) -> None:
    """In a composite action, arguments not given on the command line come from its inputs."""
    for attr, name in names.items():
        value = gha.get_input(name)
        if not value:
            continue
        current = getattr(args, attr, None)
        if attr == "bootstrap":
            args.bootstrap = args.bootstrap or value.lower() == "true"
        elif attr == "jobs":
            args.jobs = int(value) if value.isdigit() else args.jobs
        elif attr in ("topology", "build_dir", "output_dir"):
            if current is None or (attr == "topology" and str(current) == "BUILD_TOPOLOGY.toml"):
                setattr(args, attr, Path(value))
        elif not current:
            setattr(args, attr, value)


def store_context(args: argparse.Namespace, need_conditions: bool = True) -> Context:
    plat = args.platform or env.host_platform()
    if plat not in ("linux", "windows"):
        raise InputError(f"unknown platform '{plat}' (linux or windows)")
    run = f"{env.run_id(args.run_id)}-{plat}"
    if args.external_repo:
        owner, _, repo = args.external_repo.partition("/")
        if not owner or not repo or "/" in repo:
            raise InputError(f"--external-repo '{args.external_repo}' is not OWNER/REPO")
        run = f"{owner}-{repo}/{run}"
    store = open_store(
        args.store or "",
        local_default=env.local_staging_dir(args.local_staging_dir),
        endpoint_url=env.endpoint_url(args.endpoint_url),
        jobs=getattr(args, "jobs", DEFAULT_JOBS),
    )
    conds = Conditions(plat, getattr(args, "processor", None), frozenset(getattr(args, "flag", [])))
    return Context(store, run, plat, conds if need_conditions else Conditions(plat))


def _progress(label: str, total: int) -> Progress:
    return Progress(label, total, sys.stderr, env.is_tty(sys.stderr))


def _report(
    args: argparse.Namespace,
    verb: str,
    ctx: Context,
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
    if gha.in_actions():
        gha.set_output("artifacts", " ".join(m.filename for m in moved))
        gha.set_output("count", str(len(moved)))
        gha.set_output("bytes", str(total))
        gha.set_output("store-url", location)
        lines = [
            f"### rockshard artifacts {verb}: {len(moved)} archive(s), {human(total)}",
            "",
            f"Store: `{location}`",
            "",
            "| archive | size | status | sha256 |",
            "| --- | ---: | --- | --- |",
        ]
        lines += [
            f"| `{m.filename}` | {human(m.size)} | {m.status} | `{m.digest[:12]}` |" for m in moved
        ]
        gha.append_summary("\n".join(lines) + "\n")


def _timing(bar: Progress, verb: str, moved: Sequence[Moved], seconds: float) -> None:
    total = sum(m.size for m in moved)
    rate = human(total / seconds) if seconds > 0 else "-"
    bar.note(f"{verb} {len(moved)} archive(s), {human(total)} in {seconds:.1f}s ({rate}/s)")


def _families(args: argparse.Namespace) -> tuple[str, ...]:
    return _csv(getattr(args, "amdgpu_families", None))


def _cmd_populate(args: argparse.Namespace) -> int:
    check_part("name", args.name)
    check_part("target", args.target)
    descriptor = load_descriptor(args.descriptor, args.name, host.system())
    targets: tuple[str, ...] = ()
    if args.target != GENERIC:
        targets = _csv(args.amdgpu_targets) or expand_families([args.target])
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


def _plan_context(args: argparse.Namespace) -> tuple[Topology, Context]:
    return topology(args), store_context(args)


def _cmd_push(args: argparse.Namespace) -> int:
    if args.gha:
        _apply_inputs(args, PUSH_INPUTS)
    if not args.stage or args.build_dir is None:
        raise InputError("push needs --stage and --build-dir")
    topo, ctx = _plan_context(args)
    families = _families(args)
    wanted = push_plan(topo, args.stage, ctx.conditions, families)
    dirs = find_artifact_dirs(Path(args.build_dir) / "artifacts", wanted)
    total = sum(p.stat().st_size for _, d in dirs for p in d.rglob("*") if p.is_file())
    bar = _progress(f"push {args.stage}", total)
    try:
        moved = push_stage(
            topo,
            args.stage,
            ctx.store,
            ctx.run,
            ctx.conditions,
            families,
            Path(args.build_dir),
            compression=args.compression,
            level=args.level,
            jobs=args.jobs,
            overwrite=args.overwrite,
            progress=bar,
        )
    finally:
        seconds = bar.close()
    _timing(bar, "pushed", moved, seconds)
    _report(args, "push", ctx, moved, {"stage": args.stage, "seconds": round(seconds, 3)})
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    if args.gha:
        _apply_inputs(args, FETCH_INPUTS)
    if not args.stage or args.output_dir is None:
        raise InputError("fetch needs --stage and --output-dir")
    if args.bootstrap and args.flatten:
        raise InputError("--bootstrap and --flatten exclude each other")
    bad = [c for c in _csv(args.exclude_components) if c not in COMPONENTS]
    if bad:
        raise InputError(
            f"unknown component(s) {', '.join(bad)} (components: {', '.join(COMPONENTS)})"
        )
    topo, ctx = _plan_context(args)
    chosen = stage_remotes(
        topo,
        args.stage,
        ctx.store,
        ctx.run,
        ctx.conditions,
        _families(args),
        exclude_artifacts=_csv(args.exclude_artifacts),
        exclude_components=_csv(args.exclude_components),
    )
    layout = "bootstrap" if args.bootstrap else "flatten" if args.flatten else "dirs"
    options = FetchOptions(layout, not args.no_extract, args.download_cache_dir, args.jobs)
    bar = _progress(f"fetch {args.stage}", sum(r.size for r in chosen))
    try:
        result: FetchResult = fetch(ctx.store, ctx.run, chosen, Path(args.output_dir), options, bar)
    finally:
        seconds = bar.close()
    _timing(bar, "fetched", result.moved, seconds)
    for rel in result.copied_links:
        sys.stderr.write(
            f"rockshard: note: symlink {rel} extracted as a copy (no symlink privilege)\n"
        )
    extra = {
        "stage": args.stage,
        "layout": layout,
        "markers": result.markers,
        "files": result.files,
        "content_bytes": result.content_bytes,
        "seconds": round(seconds, 3),
    }
    _report(args, "fetch", ctx, result.moved, extra)
    return 0


def _cmd_copy(args: argparse.Namespace) -> int:
    topo, ctx = _plan_context(args)
    source = store_context(argparse.Namespace(**{**vars(args), "run_id": args.source_run_id}))
    artifacts = None
    if args.stage:
        artifacts = sorted(
            {a for s in _csv(args.stage) for a in produced_artifacts(topo, s, ctx.conditions)}
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
    ctx = store_context(args, need_conditions=False)
    if args.all_runs:
        runs = ctx.store.runs()
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


def _cmd_info(args: argparse.Namespace) -> int:
    topo, ctx = _plan_context(args)
    families = _families(args)
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
    p.add_argument("--amdgpu-families", help="the GPU family of a per-arch stage")
    p.add_argument("--build-dir", type=Path)
    p.add_argument("--compression", choices=("zstd", "xz"), default="zstd")
    p.add_argument("--level", type=int, help="compression level (zstd 3, xz 6)")
    p.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    p.add_argument("--overwrite", action="store_true", help="replace different content")
    add_store_args(p)
    p.set_defaults(handler=_cmd_push)

    p = sub.add_parser("fetch", help="download, verify and extract a stage's inbound artifacts")
    add_topology_arg(p)
    p.add_argument("--stage")
    p.add_argument("--amdgpu-families", help="GPU families (';' or ',' separated)")
    p.add_argument("--output-dir", type=Path)
    p.add_argument("--bootstrap", action="store_true", help="lay out as a build dir + .prebuilt")
    p.add_argument("--flatten", action="store_true", help="merge every stage dir's contents")
    p.add_argument("--no-extract", action="store_true", help="only download and verify")
    p.add_argument("--download-cache-dir", type=Path)
    p.add_argument("--exclude-components", help="e.g. dbg,doc")
    p.add_argument("--exclude-artifacts", help="artifact names")
    p.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
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

    p = sub.add_parser("info", help="what a stage would fetch and push, with sizes when present")
    add_topology_arg(p)
    p.add_argument("--stage", required=True)
    p.add_argument("--amdgpu-families")
    add_store_args(p)
    p.set_defaults(handler=_cmd_info)
