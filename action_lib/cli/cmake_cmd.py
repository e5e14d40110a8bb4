"""``rockshard cmake``: generate (or check) the CMake include of a topology."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

from action_lib import cmakegen
from action_lib.cli import common
from action_lib.cli.output import emit_generated


def source_name(path: Path) -> str:
    """The topology path as the header shows it: relative when possible, ``/`` separators."""
    if path.is_absolute():
        with contextlib.suppress(ValueError):  # outside the working directory: keep it absolute
            path = path.relative_to(Path.cwd())
    return path.as_posix()


def _cmake(args: argparse.Namespace) -> int:
    topology = common.topology(args)
    source = args.source or source_name(args.topology)
    text = cmakegen.generate(topology, dialect=args.dialect, source=source)
    output: Path | None = args.output
    where = output.as_posix() if output is not None else "FILE"
    return emit_generated(
        text,
        output,
        check=args.check,
        regenerate=f"rockshard cmake --topology {source} --dialect {args.dialect} --output {where}",
        detail=f"{args.dialect} dialect, {len(topology.artifacts)} features",
    )


def register(commands: Any) -> None:
    """Add ``cmake``."""
    help_text = "generate the CMake include (features, variables, targets) of a topology"
    parser: argparse.ArgumentParser = commands.add_parser(
        "cmake", help=help_text, description=help_text
    )
    common.add_topology_arg(parser)
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="file to write (atomically; untouched when current); default: standard output",
    )
    parser.add_argument(
        "--dialect",
        choices=cmakegen.DIALECTS,
        default="therock",
        help="therock: THEROCK_* and therock_add_feature (default); rockshard: ROCKSHARD_*",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a unified diff when FILE is stale, 0 when current",
    )
    parser.add_argument(
        "--source",
        metavar="NAME",
        help="name of the topology in the generated header (default: --topology as given)",
    )
    parser.set_defaults(handler=_cmake)
