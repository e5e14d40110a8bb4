"""Impact reports for scripts (JSON), people (text) and the job summary (markdown). Pure."""

from __future__ import annotations

from typing import Any

from action_lib.impact.analyze import ImpactReport, PathImpact


def _stages_cell(impact: PathImpact) -> str:
    if impact.stages == ("*",):
        return "every stage"
    return ", ".join(impact.stages) or "-"


def _detail(impact: PathImpact) -> str:
    text = impact.detail
    if impact.source_sets:
        text += f" (source set {', '.join(impact.source_sets)})"
    if impact.groups:
        text += f" (groups {', '.join(impact.groups)})"
    if impact.submodule and (impact.old or impact.new):
        text += f" {impact.old[:9] or 'none'}..{impact.new[:9] or 'none'}"
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


def _headline(report: ImpactReport) -> str:
    n, total = len(report.affected), len(report.stages)
    text = f"{n} of {total} stages affected"
    if report.fallback:
        text += f": every stage, because {report.fallback}"
    elif report.everything and n:
        text += " (a change that affects every stage)"
    return text


def report_text(report: ImpactReport) -> str:
    """Aligned text for people: the paths with their rules, then each affected stage."""
    lines: list[str] = []
    if report.origin:
        lines.append(f"changes: {report.origin}")
    lines.append(_headline(report))
    if report.paths:
        rows = [("path", "rule", "detail", "stages")] + [
            (p.path, p.rule, _detail(p), _stages_cell(p)) for p in report.paths
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
                why.append(_paths(reason.paths))
            if reason.upstream:
                why.append("downstream of " + ", ".join(reason.upstream))
            lines.append(f"{reason.stage}: " + ("; ".join(why) or report.fallback or "affected"))
    return "\n".join(lines) + "\n"


def _paths(paths: tuple[str, ...], limit: int = 3) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def report_markdown(report: ImpactReport) -> str:
    """Markdown for the job summary: headline, stages with reasons, paths with rules."""
    out = ["### Stages affected by this change", "", _headline(report), ""]
    if report.origin:
        out += [f"Changes from {report.origin}.", ""]
    if report.reasons:
        out += ["| stage | why |", "| --- | --- |"]
        for reason in report.reasons:
            why = []
            if reason.paths:
                why.append(_paths(tuple(f"`{p}`" for p in reason.paths)))
            if reason.upstream:
                why.append("downstream of " + ", ".join(reason.upstream))
            out.append(f"| {reason.stage} | {'; '.join(why) or report.fallback} |")
        out.append("")
    if report.paths:
        out += [
            "<details><summary>Every changed path and the rule it met</summary>",
            "",
            "| path | rule | detail | stages |",
            "| --- | --- | --- | --- |",
        ]
        out += [
            f"| `{p.path}` | {p.rule} | {_detail(p)} | {_stages_cell(p)} |" for p in report.paths
        ]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
