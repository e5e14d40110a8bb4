"""Impact reports for scripts (JSON), people (text) and the job summary (markdown). Pure.

Changed paths, submodule names and fallback reasons come from outside (a pull request, a
server): text shows them through :func:`~action_lib.inputs.untrusted.escape`, markdown through
:func:`~action_lib.inputs.untrusted.md`, so none of them can start a workflow command or render.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from action_lib.impact.analyze import ImpactReport, PathImpact
from action_lib.inputs.untrusted import escape, md, md_code

SHOWN = 256  # characters of one path or detail shown (the JSON report has them whole)
SUMMARY_PATHS = 1000  # rows of the job summary's path table


def _plain(value: str) -> str:
    return escape(value, SHOWN)


def _marked(value: str) -> str:
    return md(value, SHOWN)


def _stages_cell(impact: PathImpact, show: Callable[[str], str] = _plain) -> str:
    if impact.stages == ("*",):
        return "every stage"
    return ", ".join(show(s) for s in impact.stages) or "-"


def _detail(impact: PathImpact, show: Callable[[str], str] = _plain) -> str:
    text = show(impact.detail)
    if impact.source_sets:
        text += f" (source set {', '.join(show(s) for s in impact.source_sets)})"
    if impact.groups:
        text += f" (groups {', '.join(show(g) for g in impact.groups)})"
    if impact.submodule and (impact.old or impact.new):
        text += f" {show(impact.old[:9]) or 'none'}..{show(impact.new[:9]) or 'none'}"
    return text


def report_json(report: ImpactReport) -> dict[str, Any]:
    """The report as JSON-ready data (stable keys)."""
    return {
        "origin": report.origin,
        "stages": list(report.stages),
        "affected_stages": list(report.affected),
        "everything": report.everything,
        "fallback": report.fallback,
        "paths": [
            {
                "path": p.path,
                "rule": p.rule,
                "detail": p.detail,
                "source_sets": list(p.source_sets),
                "groups": list(p.groups),
                "stages": list(report.stages) if p.stages == ("*",) else list(p.stages),
                "submodule": p.submodule,
                "old": p.old,
                "new": p.new,
            }
            for p in report.paths
        ],
        "reasons": {
            r.stage: {"paths": list(r.paths), "upstream": list(r.upstream)} for r in report.reasons
        },
    }


def _headline(report: ImpactReport, show: Callable[[str], str] = _plain) -> str:
    n, total = len(report.affected), len(report.stages)
    text = f"{n} of {total} stages affected"
    if report.fallback:
        text += f": every stage, because {show(report.fallback)}"
    elif report.everything and n:
        text += " (a change that affects every stage)"
    return text


def report_text(report: ImpactReport) -> str:
    """Aligned text for people: the paths with their rules, then each affected stage."""
    lines: list[str] = []
    if report.origin:
        lines.append(f"changes: {_plain(report.origin)}")
    lines.append(_headline(report))
    if report.paths:
        rows = [("path", "rule", "detail", "stages")] + [
            (_plain(p.path), p.rule, _detail(p), _stages_cell(p)) for p in report.paths
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines.append("")
        for row in rows:
            cells = [c.ljust(w) for c, w in zip(row[:3], widths, strict=True)]
            lines.append("  ".join([*cells, row[3]]).rstrip())
    if report.reasons:
        lines.append("")
        for reason in report.reasons:
            why: list[str] = []
            if reason.paths:
                why.append(_paths(reason.paths, _plain))
            if reason.upstream:
                why.append("downstream of " + ", ".join(_plain(u) for u in reason.upstream))
            because = "; ".join(why) or _plain(report.fallback) or "affected"
            lines.append(f"{_plain(reason.stage)}: {because}")
    return "\n".join(lines) + "\n"


def _paths(paths: tuple[str, ...], show: Callable[[str], str], limit: int = 3) -> str:
    shown = ", ".join(show(p) for p in paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def _code(value: str) -> str:
    return md_code(value, SHOWN)


def report_markdown(report: ImpactReport) -> str:
    """Markdown for the job summary: headline, stages with reasons, paths with rules."""
    out = ["### Stages affected by this change", "", _headline(report, _marked), ""]
    if report.origin:
        out += [f"Changes from {_marked(report.origin)}.", ""]
    if report.reasons:
        out += ["| stage | why |", "| --- | --- |"]
        for reason in report.reasons:
            why = []
            if reason.paths:
                why.append(_paths(reason.paths, _code))
            if reason.upstream:
                why.append("downstream of " + ", ".join(_marked(u) for u in reason.upstream))
            because = "; ".join(why) or _marked(report.fallback)
            out.append(f"| {_marked(reason.stage)} | {because} |")
        out.append("")
    if report.paths:
        out += [
            "<details><summary>Every changed path and the rule it met</summary>",
            "",
            "| path | rule | detail | stages |",
            "| --- | --- | --- | --- |",
        ]
        out += [
            f"| {_code(p.path)} | {p.rule} | {_detail(p, _marked)} | {_stages_cell(p, _marked)} |"
            for p in report.paths[:SUMMARY_PATHS]
        ]
        left = len(report.paths) - SUMMARY_PATHS
        if left > 0:
            out += ["", f"... and {left} more paths (`rockshard impact --format json` lists all)."]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
