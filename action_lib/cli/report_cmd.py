"""``rockshard report``: the timeline of one pipeline run, where its time went, its critical
path; from GitHub's API or a replay's run record."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from action_lib.cli import common
from action_lib.cli.output import emit_json
from action_lib.edges import gha
from action_lib.edges.outputfiles import write_atomic
from action_lib.errors import EXIT_OK, InputError
from action_lib.report.analysis import RunReport, analyze_run
from action_lib.report.html import report_html
from action_lib.report.mapping import phase_rules
from action_lib.report.model import RunRecord, loads_run
from action_lib.report.render import report_json, report_markdown, report_text
from action_lib.settings import environment
from action_lib.topology import load_topology
from action_lib.topology.model import PLATFORMS, Conditions

UNDER_ACT = (
    "rockshard report: under act the run's jobs are not on GitHub's API; "
    "`rockshard replay` writes this run's report (report.html beside its product)"
)


def _token() -> str:
    return environment.get("GITHUB_TOKEN") or environment.get("GH_TOKEN")


def _from_github(repository: str, run_id: int, api_url: str, token: str) -> RunRecord:
    from action_lib.github_api.client import GitHubClient  # PyGithub: a slow import
    from action_lib.github_api.runs import read_run

    client = GitHubClient(token or None, base_url=api_url)
    try:
        return read_run(client, repository, run_id)
    finally:
        client.close()


def _run(args: argparse.Namespace) -> RunRecord | None:
    sources = sum(bool(x) for x in (args.run_file, args.github_run, args.repo or args.run_id))
    if sources != 1:
        raise InputError("give one of --run-file FILE, --repo OWNER/NAME --run-id N, --github-run")
    if args.run_file is not None:
        path: Path = args.run_file
        if path.is_dir():
            path = path / "run.json"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read the run record: {exc}") from None
        return loads_run(text, path.as_posix())
    if args.github_run:
        if environment.get("ACT"):
            return None
        from action_lib.github_api.runs import run_from_environment

        repository, run_id, api_url, token = run_from_environment(environment.environ())
        return _from_github(repository, run_id, args.api_url or api_url, token)
    if not args.repo or not args.run_id:
        raise InputError("--repo and --run-id go together")
    api_url = args.api_url or environment.get("GITHUB_API_URL") or "https://api.github.com"
    return _from_github(args.repo, args.run_id, api_url, _token())


def build_report(
    run: RunRecord, topology_path: Path, platform: str | None, step_phases: list[str]
) -> RunReport:
    """The report of ``run`` against the topology at ``topology_path``."""
    topology = load_topology(topology_path)
    chosen = platform or run.platform or None
    return analyze_run(run, topology, Conditions(chosen), rules=phase_rules(step_phases))


def _report(args: argparse.Namespace) -> int:
    run = _run(args)
    if run is None:  # --github-run under act
        sys.stdout.write(UNDER_ACT + "\n")
        if args.summary:
            gha.append_summary(UNDER_ACT.replace("rockshard report: ", "") + ".")
        return EXIT_OK
    report = build_report(run, args.topology, args.platform, args.step_phase)
    if args.html is not None:
        write_atomic(args.html, report_html(report))
    if args.summary:
        gha.append_summary(report_markdown(report))
    if args.format == "json":
        emit_json(report_json(report))
    elif args.format == "markdown":
        gha.write_listing(report_markdown(report), sys.stdout)  # names from GitHub's API
    else:
        gha.write_listing(report_text(report), sys.stdout)
    if args.html is not None:
        sys.stderr.write(f"report: {args.html.as_posix()}\n")
    return EXIT_OK


def register(commands: Any) -> None:
    """Add ``report``."""
    p = commands.add_parser(
        "report",
        help="where a pipeline run's time went: phases, critical path, waves, runner time",
        description="Read one run's jobs and steps (GitHub's API, read-only, or a replay's "
        "run record), map them to stages and families, split each stage job into queue, "
        "sources, fetch, configure, build and push, and find the critical path through the "
        "stage DAG. The token comes from GITHUB_TOKEN or GH_TOKEN.",
    )
    common.add_topology_arg(p)
    p.add_argument("--platform", choices=PLATFORMS, default=None, help="default: the run's")
    p.add_argument("--repo", default="", metavar="OWNER/NAME", help="a GitHub repository")
    p.add_argument("--run-id", type=int, default=0, help="a workflow run of --repo")
    p.add_argument(
        "--api-url", default="", help="GitHub's API (default: GITHUB_API_URL, else api.github.com)"
    )
    p.add_argument(
        "--github-run",
        action="store_true",
        help="the run this step runs in (GITHUB_REPOSITORY, GITHUB_RUN_ID); a note under act",
    )
    p.add_argument(
        "--run-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="a replay's run.json (or its dir)",
    )
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.add_argument("--html", type=Path, default=None, metavar="FILE", help="also write a page")
    p.add_argument(
        "--summary", action="store_true", help="append the markdown report to the job summary"
    )
    p.add_argument(
        "--step-phase",
        action="append",
        default=[],
        metavar="PHASE=REGEX",
        help="classify steps whose name matches REGEX as PHASE (repeatable, before the defaults)",
    )
    p.set_defaults(handler=_report)
