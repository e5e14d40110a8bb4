"""``rockshard stage setup|run``: one stage job, in CI (setup-stage) or at a terminal."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from action_lib.cli import common
from action_lib.cli.artifacts_cmd import Context, add_store_args, store_context
from action_lib.edges import gha
from action_lib.errors import EXIT_OK
from action_lib.families import split_list
from action_lib.jobs.stage import StageSetup, build_stage, setup_stage
from action_lib.jobs.stage_artifacts import push_stage
from action_lib.topology.model import Topology


def _default_build_dir(args: argparse.Namespace) -> Path:
    if args.build_dir is not None:
        return Path(args.build_dir)
    name = f"stage-{args.stage}" + (f"-{args.amdgpu_family}" if args.amdgpu_family else "")
    temp = os.environ.get("RUNNER_TEMP")
    return Path(temp) / "rockshard-build" / name if temp else Path("build") / name


def _dialect(args: argparse.Namespace) -> str:
    if args.dialect:
        return str(args.dialect)
    generated = Path(args.topology).parent / "cmake" / "rockshard_topology.cmake"
    return "rockshard" if generated.is_file() else "therock"


def _setup(args: argparse.Namespace, *, clean: bool) -> tuple[Topology, Context, StageSetup]:
    topology = common.topology(args)
    ctx = store_context(args)
    families = split_list(args.amdgpu_family or "")
    with gha.group(f"rockshard: set up stage {args.stage}"):
        setup = setup_stage(
            topology,
            args.stage,
            ctx.conditions,
            families,
            ctx.store,
            ctx.run,
            _default_build_dir(args),
            dialect=_dialect(args),
            repo=args.repo if args.sources else None,
            clean=clean,
            jobs=args.jobs,
        )
    fetched = setup.fetched
    sys.stdout.write(
        f"stage {args.stage}: fetched {len(fetched.moved)} archive(s) from "
        f"{ctx.store.location(ctx.run)}, {len(fetched.markers)} prebuilt stage dir(s) in "
        f"{setup.build_dir}\n"
    )
    for line in setup.source_actions:
        sys.stdout.write(f"  {line}\n")
    return topology, ctx, setup


def _cmd_setup(args: argparse.Namespace) -> int:
    _, _, setup = _setup(args, clean=args.clean)
    sys.stdout.write("cmake arguments:\n" + "".join(f"  {a}\n" for a in setup.cmake_args))
    if args.gha_output:
        gha.set_output("build-dir", setup.build_dir.as_posix())
        gha.set_output("cmake-args-file", setup.args_file.as_posix())
        gha.set_output("cmake-args", " ".join(shlex.quote(a) for a in setup.cmake_args))
        gha.set_output("fetched", str(len(setup.fetched.moved)))
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    if args.from_run_id:
        args.run_id = args.from_run_id
    topology, _, setup = _setup(args, clean=True)
    build_stage(args.source_dir, setup, args.stage)
    if args.push:
        push_ctx = store_context(argparse.Namespace(**{**vars(args), "run_id": args.push_run_id}))
        moved = push_stage(
            topology,
            args.stage,
            push_ctx.store,
            push_ctx.run,
            push_ctx.conditions,
            split_list(args.amdgpu_family or ""),
            setup.build_dir,
        )
        sys.stdout.write(
            f"pushed {len(moved)} archive(s) to {push_ctx.store.location(push_ctx.run)}\n"
        )
    sys.stdout.write(f"stage {args.stage} built in {setup.build_dir}\n")
    return EXIT_OK


def _common(p: argparse.ArgumentParser) -> None:
    common.add_topology_arg(p)
    p.add_argument("--stage", required=True, help="build stage")
    p.add_argument("--amdgpu-family", default="", help="the GPU family of a per-arch stage")
    p.add_argument(
        "--build-dir",
        type=Path,
        default=None,
        help="default: $RUNNER_TEMP/rockshard-build/stage-S[-F], else build/stage-S[-F]",
    )
    p.add_argument(
        "--dialect",
        choices=("therock", "rockshard"),
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
    p.add_argument("--jobs", type=int, default=2)
    add_store_args(p)


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
        "--gha-output",
        action="store_true",
        help="set outputs build-dir, cmake-args, cmake-args-file",
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
