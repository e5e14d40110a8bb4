"""A drop-in for TheRock's ``build_tools/topology_to_cmake.py``: the CMake include of a topology.

Each ``generate_*(topology, f)`` writes one section of the therock dialect of
``rockshard cmake`` (:mod:`action_lib.cmakegen.therock`) to the text stream ``f``; in TheRock's
order they add up to exactly what ``rockshard cmake --dialect therock`` writes, and :func:`main`
takes TheRock's flags (``--topology``, ``--output``, ``--validate-only``, ``--print-graph``).

Deliberate differences from TheRock's script (docs/cmake.md, docs/therock.md): features are
declared in a true dependency order and every list is sorted, so reordering the TOML changes
nothing; ``THEROCK_STAGE_<S>_DEPS`` holds the exact inbound artifacts; the build order is
rockshard's (ties broken by name).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from action_lib.cmakegen import common
from action_lib.cmakegen import therock as dialect
from action_lib.cmakegen.dialects import THEROCK
from action_lib.inputs.untrusted import escape
from action_lib.therock.build_topology import BuildTopology
from action_lib.topology.model import Topology

Section = Callable[[Topology], list[str]]


def _model(topology: BuildTopology | Topology) -> Topology:
    return topology.topology if isinstance(topology, BuildTopology) else topology


def _write(part: Section, topology: BuildTopology | Topology, f: TextIO) -> None:
    f.write("\n".join(part(_model(topology))) + "\n")


def write_cmake_header(f: TextIO, source: str = "BUILD_TOPOLOGY.toml") -> None:
    """The "generated, do not edit" banner, naming ``source``."""
    f.write("\n".join(common.header(source, THEROCK)) + "\n")


def generate_validation_metadata(topology: BuildTopology | Topology, f: TextIO) -> None:
    """``THEROCK_TOPOLOGY_ARTIFACTS``, ``THEROCK_ARTIFACT_GROUP_*``, ``THEROCK_ARTIFACT_TYPE_*``,
    ``THEROCK_ARTIFACT_SPLIT_DATABASES_*``, ``THEROCK_GROUP_ARTIFACTS_*``."""
    _write(dialect.metadata_lines, topology, f)


def generate_feature_declarations(topology: BuildTopology | Topology, f: TextIO) -> None:
    """One ``therock_add_feature()`` per artifact, each after the features it requires."""
    _write(dialect.feature_lines, topology, f)


def generate_artifact_targets(topology: BuildTopology | Topology, f: TextIO) -> None:
    """``add_custom_target(artifact-<name>)`` per artifact."""
    _write(dialect.artifact_target_lines, topology, f)


def generate_artifact_group_targets(topology: BuildTopology | Topology, f: TextIO) -> None:
    """``add_custom_target(artifact-group-<group> DEPENDS artifact-...)`` per group."""
    _write(dialect.group_target_lines, topology, f)


def generate_build_stage_targets(topology: BuildTopology | Topology, f: TextIO) -> None:
    """``add_custom_target(stage-<stage> DEPENDS artifact-group-...)`` per stage."""
    _write(dialect.stage_target_lines, topology, f)


def generate_dependency_variables(topology: BuildTopology | Topology, f: TextIO) -> None:
    """``THEROCK_STAGE_<STAGE>_ARTIFACTS`` (produced) and ``_DEPS`` (exact inbound)."""
    _write(dialect.stage_variable_lines, topology, f)


def generate_build_order(topology: BuildTopology | Topology, f: TextIO) -> None:
    """``THEROCK_BUILD_ORDER``, every stage after those it fetches from."""
    _write(dialect.build_order_lines, topology, f)


def main(argv: Sequence[str] | None = None) -> int:
    """TheRock's command line; returns the exit status (0 ok, 2 invalid or missing topology)."""
    from action_lib.cli.main import main as cli_main

    parser = argparse.ArgumentParser(description="Generate CMake includes from BUILD_TOPOLOGY.toml")
    parser.add_argument("--topology", default="BUILD_TOPOLOGY.toml", help="BUILD_TOPOLOGY.toml")
    parser.add_argument(
        "--output", default="cmake/therock_topology_generated.cmake", help="CMake file to write"
    )
    parser.add_argument("--validate-only", action="store_true", help="only validate")
    parser.add_argument("--print-graph", action="store_true", help="print the graph as JSON")
    args = parser.parse_args(argv)
    path = Path(args.topology)
    if not path.is_file():
        print(f"Error: Topology file not found: {path}", file=sys.stderr)
        return 2
    try:
        topology = BuildTopology(path)
    except ValueError as exc:
        print(f"Error loading topology: {escape(str(exc))}", file=sys.stderr)
        return 2
    errors = topology.validate_topology()
    if errors:
        print("Topology validation errors:", file=sys.stderr)
        sys.stderr.writelines(f"  - {escape(error)}\n" for error in errors)
        return 2
    if args.validate_only:
        print("Topology validation successful!")
        return 0
    if args.print_graph:
        print(json.dumps(topology.get_dependency_graph(), indent=2))
        return 0
    return cli_main(["cmake", "--topology", str(path), "--output", args.output])


__all__ = [
    "generate_artifact_group_targets",
    "generate_artifact_targets",
    "generate_build_order",
    "generate_build_stage_targets",
    "generate_dependency_variables",
    "generate_feature_declarations",
    "generate_validation_metadata",
    "main",
    "write_cmake_header",
]
