"""Arguments shared by several commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from action_lib.topology import Conditions, Topology, load_topology
from action_lib.topology.model import PLATFORMS, PROCESSORS


def add_topology_arg(parser: argparse.ArgumentParser) -> None:
    """``--topology PATH`` (default ./BUILD_TOPOLOGY.toml)."""
    parser.add_argument(
        "--topology",
        type=Path,
        default=Path("BUILD_TOPOLOGY.toml"),
        help="path to BUILD_TOPOLOGY.toml (default: %(default)s)",
    )


def add_condition_args(parser: argparse.ArgumentParser) -> None:
    """``--platform``, ``--processor``, ``--flag`` (repeatable)."""
    parser.add_argument("--platform", choices=PLATFORMS, help="build platform (default: any)")
    parser.add_argument("--processor", choices=PROCESSORS, help="CPU processor (default: any)")
    parser.add_argument(
        "--flag",
        action="append",
        default=[],
        metavar="NAME",
        help="a THEROCK_FLAG_<NAME> given as enabled (repeatable)",
    )


def add_format_arg(parser: argparse.ArgumentParser, *extra: str) -> None:
    """``--format text|json`` (plus extra choices)."""
    parser.add_argument("--format", choices=("text", "json", *extra), default="text")


def conditions(args: argparse.Namespace) -> Conditions:
    """The Conditions named by the condition arguments."""
    return Conditions(args.platform, args.processor, frozenset(args.flag))


def topology(args: argparse.Namespace) -> Topology:
    """Load and validate the topology named by ``--topology``."""
    loaded: Topology = load_topology(args.topology)
    return loaded
