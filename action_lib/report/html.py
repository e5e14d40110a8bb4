"""A run report as one self-contained page: inline SVG timeline and stage graph, no script,
nothing fetched from the network. Well-formed XML (XHTML), so any XML parser reads it. Pure.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from action_lib.inputs.untrusted import html
from action_lib.report.analysis import RunReport
from action_lib.report.mapping import PHASES
from action_lib.report.render import (
    JOB_HEADERS,
    WAVE_HEADERS,
    duration,
    headline,
    job_rows,
    notes,
    path_text,
    wave_rows,
)

COLOURS = {
    "queue": "#d9d9d9",
    "sources": "#8dd3c7",
    "fetch": "#80b1d3",
    "configure": "#fdb462",
    "build": "#fb8072",
    "push": "#bebada",
    "other": "#b3b3b3",
}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 90%; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
svg text { font-size: 12px; font-family: system-ui, sans-serif; }
.job { fill: none; stroke: #555; stroke-width: 1; }
.job.critical { stroke: #c00; stroke-width: 2.5; }
.job.failed { stroke: #c00; stroke-dasharray: 4 2; }
.stage { fill: #f4f4f4; stroke: #555; }
.stage.critical { stroke: #c00; stroke-width: 2.5; }
.edge { fill: none; stroke: #888; stroke-width: 1.2; }
.edge.critical { stroke: #c00; stroke-width: 2; }
.axis { stroke: #ddd; }
.legend rect { stroke: #555; stroke-width: 0.5; }
"""
_ROW = 22
_BAR = 14
_LABEL = 230


def _a(value: object) -> str:
    # Names come from GitHub's API: escaped for HTML, and kept on one line.
    return html(value)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _ticks(span: float) -> list[float]:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400):
        if span / step <= 10:
            return [step * k for k in range(int(span // step) + 1)]
    return [0.0, span]


def timeline_svg(report: RunReport, width: int = 900) -> str:
    """One bar (``rect class="job"``) per job on the run's clock, split into its phases;
    the critical path outlined."""
    jobs = report.jobs
    span = max([report.wall, *(j.end for j in jobs), 1.0])
    plot = width - _LABEL - 20
    scale = plot / span
    height = _ROW * (len(jobs) + 2) + 30
    critical = {id(j) for j in report.critical_path}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for tick in _ticks(span):
        x = _LABEL + tick * scale
        out.append(
            f'<line class="axis" x1="{_n(x)}" y1="10" x2="{_n(x)}" y2="{height - 40}"/>'
            f'<text x="{_n(x)}" y="{height - 26}" text-anchor="middle">{_a(duration(tick))}</text>'
        )
    for row, job in enumerate(jobs):
        y = 14 + row * _ROW
        out.append(f'<text x="4" y="{y + _BAR - 3}">{_a(job.label)}</text>')
        x = _LABEL + job.start * scale
        queue = job.phases["queue"]
        if queue > 0:
            out.append(
                f'<rect class="phase queue" x="{_n(x - queue * scale)}" y="{y}" '
                f'width="{_n(queue * scale)}" height="{_BAR}" fill="{COLOURS["queue"]}"/>'
            )
        cursor = x
        for phase in PHASES[1:]:
            w = job.phases[phase] * scale
            if w <= 0:
                continue
            out.append(
                f'<rect class="phase phase-{phase}" x="{_n(cursor)}" y="{y}" width="{_n(w)}" '
                f'height="{_BAR}" fill="{COLOURS[phase]}"><title>{_a(job.label)}: {phase} '
                f"{_a(duration(job.phases[phase]))}</title></rect>"
            )
            cursor += w
        classes = ["job"]
        if id(job) in critical:
            classes.append("critical")
        if job.record.conclusion not in ("", "success", "skipped"):
            classes.append("failed")
        out.append(
            f'<rect class="{" ".join(classes)}" x="{_n(x)}" y="{y}" '
            f'width="{_n(max(job.seconds * scale, 1.0))}" height="{_BAR}">'
            f"<title>{_a(job.label)}: {_a(duration(job.seconds))} from "
            f"{_a(duration(job.start))}</title></rect>"
        )
    legend_y = height - 14
    x = _LABEL
    out.append('<g class="legend">')
    for phase in PHASES:
        out.append(
            f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{COLOURS[phase]}"/>'
            f'<text x="{x + 14}" y="{legend_y}">{phase}</text>'
        )
        x += 88
    out.append("</g></svg>")
    return "\n".join(out)


def stage_graph_svg(report: RunReport) -> str:
    """The stages that ran, by wave, with their DAG edges; the critical path in red."""
    stage_jobs = report.stage_jobs
    wave_of: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for job in stage_jobs:
        stage = job.identity.stage
        wave = job.identity.wave if job.identity.wave is not None else 0
        wave_of[stage] = min(wave_of.get(stage, wave), wave)
        seconds[stage] = max(seconds.get(stage, 0.0), job.seconds)
    columns: dict[int, list[str]] = {}
    for stage in sorted(wave_of):
        columns.setdefault(wave_of[stage], []).append(stage)
    rank = {w: n for n, w in enumerate(sorted(columns))}
    box_w, box_h, gap_x, gap_y = 170, 38, 60, 16
    place: dict[str, tuple[float, float]] = {}
    for wave, stages in columns.items():
        for row, stage in enumerate(stages):
            place[stage] = (10 + rank[wave] * (box_w + gap_x), 10 + row * (box_h + gap_y))
    width = 20 + max(len(columns), 1) * (box_w + gap_x)
    height = 20 + max([len(s) for s in columns.values()] or [1]) * (box_h + gap_y)
    path_stages = [j.identity.stage for j in report.critical_path]
    hot_edges = set(itertools.pairwise(path_stages))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="stages" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker></defs>',
    ]
    for up, down in report.stage_edges:
        (x1, y1), (x2, y2) = place[up], place[down]
        x1, y1, y2 = x1 + box_w, y1 + box_h / 2, y2 + box_h / 2
        mid = (x1 + x2) / 2
        hot = " critical" if (up, down) in hot_edges else ""
        out.append(
            f'<path class="edge{hot}" marker-end="url(#arrow)" d="M{_n(x1)},{_n(y1)} '
            f'C{_n(mid)},{_n(y1)} {_n(mid)},{_n(y2)} {_n(x2)},{_n(y2)}"/>'
        )
    for stage, (x, y) in sorted(place.items()):
        hot = " critical" if stage in path_stages else ""
        out.append(
            f'<rect class="stage{hot}" x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="4"/>'
            f'<text x="{x + 8}" y="{y + 16}">{_a(stage)}</text>'
            f'<text x="{x + 8}" y="{y + 31}">slowest job {_a(duration(seconds[stage]))}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_a(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_a(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(report: RunReport) -> str:
    """The whole page."""
    run = report.run
    web = run.url.startswith(("https://", "http://"))  # never a javascript: or data: link
    link = f' <a href="{_a(run.url)}">{_a(run.url)}</a>' if web else ""
    parts = [
        "<!DOCTYPE html>",
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">',
        "<head>",
        '<meta charset="utf-8"/>',
        f"<title>rockshard run report: {_a(run.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>rockshard run report</h1><p>{_a(headline(report))}{link}</p>",
        f"<p><strong>Critical path</strong> (stage DAG): {_a(path_text(report, ' → '))}</p>",
        "<h2>Timeline</h2>",
        timeline_svg(report),
        "<h2>Stage graph</h2>",
        stage_graph_svg(report),
        "<h2>Jobs</h2>",
        _table(JOB_HEADERS, job_rows(report)),
    ]
    if report.waves:
        parts += ["<h2>Waves</h2>", _table(WAVE_HEADERS, wave_rows(report))]
    parts += [f"<p>{_a(note)}</p>" for note in notes(report)]
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
