"""``rockshard configure-stage``: the CMake ``-D`` arguments that configure one build stage."""

from __future__ import annotations

import argparse
import dataclasses
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

from action_lib.cli import common
from action_lib.cli.output import emit_json, table
from action_lib.cmakegen import stage_args
from action_lib.cmakegen.dialects import DIALECTS
from action_lib.edges import gha
from action_lib.edges.outputfiles import write_atomic
from action_lib.errors import EXIT_OK, InputError
from action_lib.families import family_targets
from action_lib.topology.model import PLATFORMS, PROCESSORS, Conditions

_MACHINES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}


def _host_platform() -> str | None:
    """This machine's platform name, when it is one a topology knows."""
    name = platform.system().lower()
    return name if name in PLATFORMS else None


def _host_processor() -> str | None:
    """This machine's processor name, when it is one a topology knows."""
    machine = platform.machine().lower()
    name = _MACHINES.get(machine, machine)
    return name if name in PROCESSORS else None


def families(value: str | None) -> tuple[str, ...]:
    """GPU families from ``"a;b"`` or ``"a,b"``; an unknown family is an InputError."""
    names = stage_args.split_families(value)
    for name in names:
        family_targets(name)  # raises InputError with a did-you-mean
    return names


def _conditions(args: argparse.Namespace) -> Conditions:
    plat = args.platform if args.platform is not None else _host_platform()
    proc = args.processor if args.processor is not None else _host_processor()
    return Conditions(plat, proc, frozenset(args.flag))


def _list_stages(args: argparse.Namespace) -> int:
    topology = common.topology(args)
    rows = stage_args.stage_summaries(topology, _conditions(args))
    if args.format == "json":
        emit_json({"stages": [dataclasses.asdict(r) for r in rows]})
        return EXIT_OK
    table(
        ("stage", "type", "groups", "produced", "inbound", "description"),
        [(r.name, r.type, r.groups, r.produced, r.inbound, r.description) for r in rows],
    )
    return EXIT_OK


def _configure(args: argparse.Namespace) -> int:
    if args.list_stages:
        return _list_stages(args)
    if not args.stage:
        raise InputError("configure-stage needs --stage NAME (or --list-stages)")
    gpu = families(args.amdgpu_families)
    dist = families(args.dist_amdgpu_families)
    topology = common.topology(args)
    conditions = _conditions(args)
    config = stage_args.stage_config(topology, args.stage, conditions)
    cmake_args = stage_args.cmake_args(
        config, dialect=args.dialect, amdgpu_families=gpu, dist_amdgpu_families=dist
    )
    pip = stage_args.python_requires(topology, args.stage)

    if args.output_cmake_args is not None:
        write_atomic(args.output_cmake_args, "".join(f"{a}\n" for a in cmake_args))
    if args.gha_output:
        gha.set_output("cmake_args", shlex.join(cmake_args))
        gha.set_output("pip_install_cmd", " ".join(pip))
        gha.set_output("features", " ".join(config.features))
    if args.format == "json":
        emit_json(
            {
                "stage": config.stage,
                "type": config.type,
                "dialect": args.dialect,
                "platform": conditions.platform,
                "processor": conditions.processor,
                "flags": sorted(conditions.flags),
                "amdgpu_families": list(gpu),
                "dist_amdgpu_families": list(dist),
                "cmake_args": cmake_args,
                "features": list(config.features),
                "produced": list(config.produced),
                "inbound": list(config.inbound),
                "python_requires": list(pip),
            }
        )
    elif args.output_cmake_args is None and not args.gha_output:
        sys.stdout.writelines(f"{a}\n" for a in cmake_args)
    else:
        where = [str(args.output_cmake_args)] if args.output_cmake_args is not None else []
        where += ["step output cmake_args"] if args.gha_output else []
        sys.stderr.write(f"{len(cmake_args)} CMake arguments -> {', '.join(where)}\n")
    return EXIT_OK


def register(commands: Any) -> None:
    """Add ``configure-stage``."""
    help_text = "print the CMake -D arguments that configure one build stage"
    parser: argparse.ArgumentParser = commands.add_parser(
        "configure-stage",
        help=help_text,
        description=help_text
        + ": ENABLE_ALL=OFF, then ENABLE_<F>=ON for every feature the stage builds or fetches."
        " --platform and --processor default to this machine's.",
    )
    common.add_topology_arg(parser)
    # Not common.add_condition_args: here platform and processor default to this machine's.
    parser.add_argument("--platform", choices=PLATFORMS, help="build platform (default: this one)")
    parser.add_argument("--processor", choices=PROCESSORS, help="CPU processor (default: this one)")
    parser.add_argument(
        "--flag",
        action="append",
        default=[],
        metavar="NAME",
        help="a THEROCK_FLAG_<NAME> given as enabled (repeatable)",
    )
    common.add_format_arg(parser)
    parser.add_argument("--stage", help="build stage name")
    parser.add_argument(
        "--list-stages", action="store_true", help="list the stages with their artifact counts"
    )
    parser.add_argument(
        "--amdgpu-families",
        metavar="LIST",
        help='GPU families this job builds for ("a;b" or "a,b")',
    )
    parser.add_argument(
        "--dist-amdgpu-families",
        metavar="LIST",
        help='GPU families of the whole distribution ("a;b" or "a,b")',
    )
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="therock",
        help="variable prefix: THEROCK_ (default) or ROCKSHARD_",
    )
    parser.add_argument(
        "--output-cmake-args",
        type=Path,
        metavar="FILE",
        help="write the arguments to FILE, one per line (instead of standard output)",
    )
    parser.add_argument(
        "--gha-output",
        action="store_true",
        help="set step outputs cmake_args (shell-quoted, one line), pip_install_cmd, features",
    )
    parser.set_defaults(handler=_configure)
