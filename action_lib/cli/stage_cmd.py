"""``rockshard stage setup|run``: one stage job, in CI (setup-stage) or at a terminal."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from action_lib.cli import common
from action_lib.cmakegen import DIALECTS
from action_lib.edges import gha
from action_lib.errors import EXIT_OK
from action_lib.inputs.untrusted import escape
from action_lib.jobs.model import StageJob
from action_lib.jobs.stage import StageSetup, build_stage, setup_stage
from action_lib.jobs.stage_artifacts import push_stage
from action_lib.settings import environment
from action_lib.settings import stage as stage_settings
from action_lib.settings.cache import CACHE_MODES, cache_mode

if TYPE_CHECKING:
    from action_lib.jobs.cache_stage import JobTime


def _setup(args: argparse.Namespace, *, clean: bool) -> tuple[StageJob, StageSetup]:
    ctx = common.store_context(args)
    topology = common.topology(args)
    job = common.stage_job(topology, args.stage, ctx.conditions, ctx.layers)
    build_dir = stage_settings.build_dir(ctx.layers, job.stage, job.family).value
    dialect = stage_settings.dialect(ctx.layers, args.topology).value
    with gha.group(f"rockshard: set up stage {job.label}"):
        setup = setup_stage(
            job,
            ctx.target,
            build_dir,
            dialect=dialect,
            repo=args.repo if args.sources else None,
            clean=clean,
            jobs=args.jobs,
        )
    fetched = setup.fetched
    sys.stdout.write(
        f"stage {args.stage}: fetched {len(fetched.moved)} archive(s) from "
        f"{ctx.target.location()}, {len(fetched.markers)} prebuilt stage dir(s) in "
        f"{setup.build_dir}\n"
    )
    for line in setup.source_actions:
        sys.stdout.write(f"  {escape(line)}\n")
    return job, setup


def _cmd_setup(args: argparse.Namespace) -> int:
    from action_lib.jobs import cache_stage

    ctx = common.store_context(args)
    mode = cache_mode(ctx.layers).value
    state: dict[str, Any] = {}
    found = cache_stage.JobTime("off")
    if mode != "off":
        topology = common.topology(args)
        job = common.stage_job(topology, args.stage, ctx.conditions, ctx.layers)
        with gha.group(f"rockshard: stage cache lookup for {job.label}"):
            found, state = cache_stage.job_time_lookup(
                job, ctx.target, mode=mode, environ=environment.environ()
            )
        _say_cache(found, job.label)
        if args.gha_output:
            gha.set_output("cache-hit", "true" if found.hit else "false")
            gha.set_output("cache-outcome", found.outcome)
            gha.set_output("cache-key", found.key)
            gha.set_output("cache-source-run", found.source_run)
        if found.hit:
            if args.gha_output:
                build_dir = stage_settings.build_dir(ctx.layers, job.stage, job.family).value
                gha.set_output("build-dir", build_dir.as_posix())
                gha.set_output("fetched", "0")
            return EXIT_OK
    _, setup = _setup(args, clean=args.clean)
    cache_stage.write_state(setup.build_dir, state)
    sys.stdout.write("cmake arguments:\n" + "".join(f"  {a}\n" for a in setup.cmake_args))
    if args.gha_output:
        gha.set_output("build-dir", setup.build_dir.as_posix())
        gha.set_output("cmake-args-file", setup.args_file.as_posix())
        gha.set_output("cmake-args", " ".join(shlex.quote(a) for a in setup.cmake_args))
        gha.set_output("fetched", str(len(setup.fetched.moved)))
        if mode == "off":
            gha.set_output("cache-hit", "false")
    return EXIT_OK


def _say_cache(found: JobTime, label: str) -> None:
    if found.outcome == "reused":
        line = f"stage cache: {label} reused from run {found.source_run} (key {found.key[:12]})"
    elif found.outcome == "cutoff":
        line = (
            f"stage cache: {label} cut off: its inbound archives are byte-identical to run "
            f"{found.source_run}'s (content key {found.content_key[:12]}); record {found.record}"
        )
    else:
        line = f"stage cache: {label} is built: {found.reason}"
    sys.stdout.write(line + "\n")
    if gha.in_actions():
        gha.append_summary(f"{line}\n")


def _cmd_run(args: argparse.Namespace) -> int:
    if args.from_run_id:
        args.run_id = args.from_run_id
    job, setup = _setup(args, clean=True)
    build_stage(args.source_dir, setup, job.stage)
    if args.push:
        target = common.store_context(args, run_id=args.push_run_id).target
        moved = push_stage(job, target, setup.build_dir)
        sys.stdout.write(f"pushed {len(moved)} archive(s) to {target.location()}\n")
    sys.stdout.write(f"stage {args.stage} built in {setup.build_dir}\n")
    return EXIT_OK


def _common(p: argparse.ArgumentParser) -> None:
    common.add_topology_arg(p)
    p.add_argument("--stage", required=True, help="build stage")
    common.add_family_arg(p)
    p.add_argument(
        "--build-dir",
        type=Path,
        default=None,
        help="default: $RUNNER_TEMP/rockshard-build/stage-S[-F], else build/stage-S[-F]",
    )
    p.add_argument(
        "--dialect",
        choices=DIALECTS,
        default=None,
        help="CMake variable prefix (default: rockshard when the topology's folder has "
        "cmake/rockshard_topology.cmake, the rockshard dialect's include; else therock)",
    )
    p.add_argument(
        "--sources",
        action="store_true",
        help="also fetch the stage's submodules and external sources",
    )
    p.add_argument(
        "--repo", type=Path, default=Path(), help="the superproject checkout (for --sources)"
    )
    p.add_argument("--jobs", type=common.positive_int, default=2)
    common.add_store_args(p)


def register(commands: Any) -> None:
    """Add ``stage``."""
    parser = commands.add_parser(
        "stage", help="one stage job: setup in CI, or a whole rebuild at a terminal"
    )
    sub = parser.add_subparsers(dest="stage_command", metavar="COMMAND", required=True)
    p = sub.add_parser(
        "setup", help="fetch and bootstrap a stage's inbound artifacts, write its CMake arguments"
    )
    _common(p)
    p.add_argument("--clean", action="store_true", help="empty the build dir first")
    p.add_argument(
        "--cache",
        choices=CACHE_MODES,
        default=None,
        help="look the stage's keys up first (its content key from the inbound archives' "
        "digests); on a hit copy its archives into the run and build nothing (default: "
        "ROCKSHARD_CACHE, else off)",
    )
    p.set_defaults(handler=_cmd_setup)
    p = sub.add_parser(
        "run",
        help="rebuild one stage against the artifacts of an earlier run",
        description="Fetch the stage's inbound artifacts from a run (--from-run-id), configure and "
        "build stage-<stage> in a fresh build dir; upstream subprojects are bootstrapped, not built.",
    )
    _common(p)
    p.add_argument(
        "--from-run-id",
        default="",
        help="the run whose artifacts to build against (default: --run-id)",
    )
    p.add_argument("--source-dir", type=Path, default=Path(), help="the super-build's source dir")
    p.add_argument("--push", action="store_true", help="push the stage's artifacts afterwards")
    p.add_argument(
        "--push-run-id",
        default=None,
        help="the run to push to (default: THEROCK_RUN_ID, GITHUB_RUN_ID, local)",
    )
    p.set_defaults(handler=_cmd_run)
