"""Entry point: ``main(argv) -> int``; errors become exit statuses here and nowhere else."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from action_lib.edges import gha
from action_lib.errors import EXIT_FAILURE, FindingsError, RockshardError
from action_lib.inputs.untrusted import escape
from action_lib.settings import environment

Handler = Callable[[argparse.Namespace], int]
REGISTRARS: list[str] = [
    "action_lib.cli.topology_cmd",
    "action_lib.cli.matrix_cmd",
    "action_lib.cli.workflow_cmd",
    "action_lib.cli.cmake_cmd",
    "action_lib.cli.configure_cmd",
    "action_lib.cli.sources_cmd",
    "action_lib.cli.impact_cmd",
    "action_lib.cli.artifacts_cmd",
    "action_lib.cli.stage_cmd",
    "action_lib.cli.pipeline_cmd",
    "action_lib.cli.replay_cmd",
    "action_lib.cli.report_cmd",
    "action_lib.cli.simulate_cmd",
    "action_lib.cli.cache_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with one sub-command per registered module."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="rockshard",
        description="Sharded, multi-stage pipelines for CMake super-builds.",
        epilog="Exit status: 0 success, 1 operation failed, 2 invalid input.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in REGISTRARS:
        importlib.import_module(module).register(commands)
    return parser


def _report(exc: RockshardError) -> None:
    # Messages quote names, paths and servers' words: each line is escaped to stay one line.
    findings = exc.findings if isinstance(exc, FindingsError) else ()
    for line in exc.lines():
        sys.stderr.write(f"rockshard: {escape(line)}\n")
    if gha.in_actions():
        if findings:
            for finding in findings:
                gha.error(finding.format(), finding)
        else:
            for line in exc.lines():
                gha.error(line)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status (0 ok, 1 failure, 2 invalid input).

    stdout and stderr are guarded meanwhile: no line printed can start a workflow command
    unless rockshard issues it (:func:`action_lib.edges.gha.guard_output`).
    """
    with gha.guard_output():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse reports usage errors itself, with status 2
        return int(exc.code or 0)
    handler: Handler = args.handler
    try:
        return handler(args)
    except RockshardError as exc:
        _report(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("rockshard: interrupted\n")
        return 130
    except Exception as exc:
        if environment.get("ROCKSHARD_DEBUG"):
            raise
        line = (
            f"internal error: {type(exc).__name__}: {exc} (set ROCKSHARD_DEBUG=1 for a traceback)"
        )
        _report(RockshardError(line))
        return EXIT_FAILURE


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
