"""``rockshard configure-stage``: the CMake ``-D`` arguments that configure a build stage, or
only some projects (TheRock's ``configure_stage.py``, same flags)."""

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
from action_lib.inputs.lists import parse_list
from action_lib.therock import projects as pj
from action_lib.therock.configure_stage import configure_args, selected_features
from action_lib.topology import queries
from action_lib.topology.model import PLATFORMS, PROCESSORS, Conditions, Topology

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
    names = parse_list(value)
    for name in names:
        family_targets(name)  # raises InputError with a did-you-mean
    return names


def _conditions(args: argparse.Namespace) -> Conditions:
    plat = args.platform if args.platform is not None else _host_platform()
    proc = args.processor if args.processor is not None else _host_processor()
    return Conditions(plat, proc, frozenset(args.flag))


def project_maps(args: argparse.Namespace) -> pj.ProjectMaps:
    """TheRock's project maps: ``build_tools/`` next to the topology, or ``--build-dir``'s."""
    build_dir: Path | None = args.build_dir
    if build_dir is not None and not build_dir.is_dir():
        raise InputError(f"--build-dir {build_dir}: not a directory")
    maps = pj.load_project_maps(Path(args.topology).parent / pj.MAPS_DIR, build_dir)
    if build_dir is not None and not (build_dir / pj.SUBPROJECTS_FILE).is_file():
        sys.stderr.write(
            f"rockshard: note: {build_dir / pj.SUBPROJECTS_FILE} is absent (not configured yet?);"
            f" using {maps.files[0] if maps.files else 'artifact names only'}\n"
        )
    return maps


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


def _list_projects(args: argparse.Namespace, topology: Topology, maps: pj.ProjectMaps) -> int:
    names: dict[str, set[str]] = {a: set() for a in topology.artifacts}
    for name, artifact in pj.alias_map(topology, maps).items():
        if name != artifact.lower():
            names[artifact].add(name)
    gated = pj.feature_map(topology, maps)
    rows: list[dict[str, Any]] = []
    for a in sorted(topology.artifacts):
        own = sorted(names[a])
        rows.append(
            {
                "artifact": a,
                "feature": topology.artifacts[a].feature_name,
                "projects": own,
                "gated": {n: gated[n] for n in own if n in gated},
            }
        )
    if args.format == "json":
        emit_json({"projects": rows, "maps": list(maps.files)})
        return EXIT_OK
    table(
        ("artifact", "feature", "projects"),
        [
            (
                r["artifact"],
                f"{stage_args.prefix_of(args.dialect)}_ENABLE_{r['feature']}",
                ", ".join(f"{n} ({r['gated'][n]})" if n in r["gated"] else n for n in r["projects"])
                or "-",
            )
            for r in rows
        ],
    )
    return EXIT_OK


def _skip_stages(args: argparse.Namespace, topology: Topology, maps: pj.ProjectMaps) -> int:
    required = pj.stages_for_projects(topology, maps, args.projects)
    skip = sorted(set(topology.build_stages) - required)
    if args.format == "json":
        emit_json({"projects": args.projects, "required": sorted(required), "skip": skip})
    else:
        sys.stdout.write(",".join(skip) + "\n")
    return EXIT_OK


def _emit(args: argparse.Namespace, lines: list[str], extra: dict[str, Any]) -> None:
    cmake_args = [a for a in lines if stage_args.is_argument(a)]
    if args.output_cmake_args is not None:
        text = " ".join(cmake_args) + "\n" if args.oneline else "".join(f"{a}\n" for a in lines)
        write_atomic(args.output_cmake_args, text)
    if args.gha_output:
        gha.set_output("cmake_args", shlex.join(cmake_args))
        gha.set_output("pip_install_cmd", " ".join(extra["python_requires"]))
        gha.set_output("features", " ".join(extra["features"]))
    if args.format == "json":
        emit_json({**extra, "cmake_args": cmake_args})
    elif args.output_cmake_args is None and not args.gha_output:
        if args.oneline:
            sys.stdout.write(" ".join(cmake_args) + "\n")
        else:
            sys.stdout.writelines(f"{a}\n" for a in lines)
    else:
        where = [str(args.output_cmake_args)] if args.output_cmake_args is not None else []
        where += ["step output cmake_args"] if args.gha_output else []
        sys.stderr.write(f"{len(cmake_args)} CMake arguments -> {', '.join(where)}\n")


def _configure(args: argparse.Namespace) -> int:
    if args.list_stages:
        return _list_stages(args)
    args.projects = pj.split_projects(args.projects)
    if args.skip_stages and not args.projects:
        raise InputError("--skip-stages needs --projects")
    if not (args.stage or args.projects or args.list_projects):
        raise InputError(
            "configure-stage needs --stage NAME or --projects NAME,... (or a --list-*)"
        )
    gpu = families(args.amdgpu_families)
    dist = families(args.dist_amdgpu_families)
    topology = common.topology(args)
    maps = project_maps(args)
    if args.list_projects:
        return _list_projects(args, topology, maps)
    if args.stage:
        queries.require_stage(topology, args.stage)
    pj.check_projects(topology, maps, args.projects)
    if args.skip_stages:
        return _skip_stages(args, topology, maps)
    conditions = _conditions(args)
    if args.stage and args.projects:
        own = pj.filter_projects_for_stage(topology, maps, args.projects, args.stage)
        if not own:
            sys.stderr.write(
                f"rockshard: note: stage {args.stage} builds none of {', '.join(args.projects)};"
                " configuring the whole stage\n"
            )
    lines = configure_args(
        topology,
        maps,
        stage=args.stage,
        projects=args.projects,
        conditions=conditions,
        amdgpu_families=gpu,
        dist_amdgpu_families=dist,
        manylinux=args.manylinux,
        include_comments=args.include_comments and not args.oneline,
        dialect=args.dialect,
    )
    config = stage_args.stage_config(topology, args.stage, conditions) if args.stage else None
    extra = {
        "stage": args.stage,
        "projects": list(args.projects),
        "type": config.type if config else None,
        "dialect": args.dialect,
        "platform": conditions.platform,
        "processor": conditions.processor,
        "flags": sorted(conditions.flags),
        "amdgpu_families": list(gpu),
        "dist_amdgpu_families": list(dist),
        "manylinux": args.manylinux,
        "features": list(selected_features(topology, maps, args.stage, args.projects, conditions)),
        "produced": list(config.produced) if config else [],
        "inbound": list(config.inbound) if config else [],
        "python_requires": list(stage_args.python_requires(topology, args.stage))
        if args.stage
        else [],
    }
    _emit(args, lines, extra)
    return EXIT_OK


def register(commands: Any) -> None:
    """Add ``configure-stage``."""
    help_text = "print the CMake -D arguments that configure a build stage or some projects"
    parser: argparse.ArgumentParser = commands.add_parser(
        "configure-stage",
        help=help_text,
        description=help_text
        + ": ENABLE_ALL=OFF, then ENABLE_<F>=ON for every feature the stage builds or fetches"
        " (or the projects' features). --platform and --processor default to this machine's."
        " Takes the flags of TheRock's configure_stage.py.",
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
        "--projects",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME",
        help="only these projects (artifact, subproject or rocm-systems names; comma or space"
        " separated; 'projects/hip' counts as 'hip'); with --stage, those the stage builds",
    )
    parser.add_argument(
        "--build-dir",
        type=Path,
        metavar="DIR",
        help="a configured build dir whose artifact_subprojects.json maps the projects",
    )
    parser.add_argument(
        "--list-stages", action="store_true", help="list the stages with their artifact counts"
    )
    parser.add_argument(
        "--list-projects", action="store_true", help="list the project names of each artifact"
    )
    parser.add_argument(
        "--skip-stages",
        action="store_true",
        help="print the stages --projects does not need, comma-separated",
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
        "--manylinux",
        action="store_true",
        help="add the manylinux container's Python executables (DIST_/SHARED_PYTHON_EXECUTABLES)",
    )
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="therock",
        help="variable prefix: THEROCK_ (default) or ROCKSHARD_",
    )
    parser.add_argument(
        "--include-comments",
        "--comments",
        action="store_true",
        help="explain each part with # comment lines (text output and --output-cmake-args)",
    )
    parser.add_argument(
        "--oneline",
        action="store_true",
        help="all arguments on one line, space-separated (for cmake $(...))",
    )
    parser.add_argument(
        "--print", action="store_true", help="print to standard output (the default)"
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
