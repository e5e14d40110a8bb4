"""A simulation as text, markdown, JSON, and an SVG chart of runner-hours per commit. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from action_lib.inputs.untrusted import escape as escape_text
from action_lib.report.render import duration, text_table
from action_lib.simulate.history import CACHED, HistoryResult, distribution
from action_lib.simulate.schedule import Outcome
from action_lib.simulate.timings import Timings
from action_lib.simulate.workload import Workload

SIMULATION_FORMAT = "rockshard-simulation/1"
LABELS = {
    "monolithic": "monolithic (one job per family)",
    "waves": "wave pipeline (generated)",
    "dag": "stage DAG (lower bound)",
    CACHED: "wave pipeline + stage caching",
}
COLOURS = {"monolithic": "#d62728", "waves": "#1f77b4", "dag": "#2ca02c", CACHED: "#ff7f0e"}


@dataclass(frozen=True)
class Simulation:
    """Everything ``rockshard simulate`` computed."""

    workload: Workload
    timings: Timings
    runners: int | None
    ccache: str
    one: Mapping[str, Outcome]  # every job built once, per variant
    history: HistoryResult | None = None


def hours(seconds: float) -> str:
    """Runner-hours with two decimals."""
    return f"{seconds / 3600:.2f}"


def _setting(sim: Simulation) -> list[str]:
    w = sim.workload
    lines = [
        f"platform {w.platform}, families {', '.join(w.families) or '-'}, "
        f"runners {sim.runners or 'unlimited'}, "
        f"per-job start overhead {duration(w.overhead)}",
        f"timings: {sim.timings.origin} ({sim.ccache} compiler cache)",
        f"simulated stages: {', '.join(w.stages)} ({len(w.jobs)} stage jobs)",
    ]
    if w.before or w.after:
        lines.append(f"pipeline jobs: {duration(w.before)} before, {duration(w.after)} after")
    if w.left_out:
        lines.append("not simulated: " + ", ".join(f"{stage} ({why})" for stage, why in w.left_out))
    lines += [f"note: {n}" for n in sim.timings.notes]
    return lines


def _published(sim: Simulation) -> str:
    figures = sim.workload.monolithic_published or {}
    if not figures:
        return ""
    shown = ", ".join(
        f"{family} {duration(low)}" + (f" to {duration(high)}" if high != low else "")
        for family, (low, high) in sorted(figures.items())
    )
    return (
        f"published monolithic builds ({sim.workload.platform}): {shown}; the simulation sums "
        "its stage durations instead"
    )


def _one_rows(sim: Simulation) -> list[list[str]]:
    return [
        [LABELS[v], duration(o.wall), hours(o.runner_seconds), str(o.jobs)]
        for v, o in sim.one.items()
    ]


def _history_rows(history: HistoryResult) -> list[list[str]]:
    rows = []
    for variant in history.variants:
        runner = distribution([c.runner[variant] for c in history.commits])
        wall = distribution([c.wall[variant] for c in history.commits])
        rows.append(
            [
                LABELS[variant],
                f"{runner.total / 3600:.0f}",
                hours(runner.mean),
                hours(runner.p50),
                hours(runner.p90),
                duration(wall.mean),
                duration(wall.p50),
                duration(wall.p90),
                duration(wall.max),
            ]
        )
    return rows


HISTORY_HEADERS = (
    "variant",
    "runner-hours",
    "per commit: mean",
    "p50",
    "p90",
    "wall: mean",
    "p50",
    "p90",
    "max",
)


def _span(history: HistoryResult) -> str:
    commits = history.commits
    first, last = commits[0].commit.date[:10], commits[-1].commit.date[:10]
    nothing = sum(1 for c in commits if c.built == 0)
    return (
        f"over {len(commits)} commits ({first} to {last}); stage caching by "
        f"{history.selection}: {nothing} commits build no stage job"
    )


def simulation_text(sim: Simulation) -> str:
    """For a terminal."""
    parts = ["\n".join(_setting(sim)) + "\n"]
    parts.append(
        "one commit, every stage job built:\n"
        + text_table(("variant", "wall", "runner-hours", "jobs"), _one_rows(sim))
    )
    published = _published(sim)
    if published:
        parts.append(published + "\n")
    if sim.history is not None:
        parts.append(
            _span(sim.history) + ":\n" + text_table(HISTORY_HEADERS, _history_rows(sim.history))
        )
    if sim.timings.ignored:
        ignored = "; ".join(escape_text(i) for i in sim.timings.ignored)  # a timings file's words
        parts.append(f"ignored in the timings: {ignored}\n")
    return "\n".join(parts)


def _md(headers: tuple[str, ...], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def simulation_markdown(sim: Simulation) -> str:
    """Markdown tables (for a README or a job summary)."""
    parts = ["\n".join(f"- {line}" for line in _setting(sim)) + "\n"]
    parts.append(
        _md(("one commit, every stage job built", "wall", "runner-hours", "jobs"), _one_rows(sim))
    )
    published = _published(sim)
    if published:
        parts.append(published[0].upper() + published[1:] + ".\n")
    if sim.history is not None:
        h = sim.history
        parts.append(
            _span(h)[0].upper() + _span(h)[1:] + ":\n\n" + _md(HISTORY_HEADERS, _history_rows(h))
        )
    return "\n".join(parts)


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "wall_seconds": round(outcome.wall, 3),
        "runner_seconds": round(outcome.runner_seconds, 3),
        "jobs": outcome.jobs,
        "schedule": [
            {"job": p.name, "start": round(p.start, 3), "end": round(p.end, 3)}
            for p in outcome.placed
        ],
    }


def _dist_json(values: list[float]) -> dict[str, float]:
    d = distribution(values)
    return {k: round(v, 3) for k, v in vars(d).items()}


def simulation_json(sim: Simulation) -> dict[str, Any]:
    """Stable JSON for scripts."""
    w = sim.workload
    data: dict[str, Any] = {
        "format": SIMULATION_FORMAT,
        "platform": w.platform,
        "families": list(w.families),
        "runners": sim.runners,
        "ccache": sim.ccache,
        "overhead_seconds": w.overhead,
        "timings": sim.timings.origin,
        "stages": list(w.stages),
        "jobs": [
            {"stage": j.stage, "family": j.family, "seconds": j.seconds, "wave": j.wave}
            for j in w.jobs
        ],
        "left_out": [{"stage": s, "why": why} for s, why in w.left_out],
        "ignored": list(sim.timings.ignored),
        "notes": list(sim.timings.notes),
        "published_monolithic_seconds": {
            f: list(pair) for f, pair in sorted((w.monolithic_published or {}).items())
        },
        "one_commit": {v: _outcome_json(o) for v, o in sim.one.items()},
    }
    if sim.history is not None:
        h = sim.history
        data["history"] = {
            "commits": len(h.commits),
            "selection": h.selection,
            "variants": {
                v: {
                    "runner_seconds": _dist_json([c.runner[v] for c in h.commits]),
                    "wall_seconds": _dist_json([c.wall[v] for c in h.commits]),
                }
                for v in h.variants
            },
            "commits_building_nothing": sum(1 for c in h.commits if c.built == 0),
            "per_commit": [
                {
                    "commit": c.commit.commit,
                    "date": c.commit.date,
                    "built_jobs": c.built,
                    "wall_seconds": {v: round(c.wall[v], 3) for v in h.variants},
                    "runner_seconds": {v: round(c.runner[v], 3) for v in h.variants},
                }
                for c in h.commits
            ],
        }
    return data


def history_svg(history: HistoryResult, title: str, width: int = 900, height: int = 360) -> str:
    """Runner-hours per commit (oldest to newest), one line per variant."""
    left, right, top, bottom = 60, 20, 30, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    commits = history.commits
    peak = max((c.runner[v] for c in commits for v in history.variants), default=0.0) / 3600
    peak = peak or 1.0
    count = max(len(commits) - 1, 1)

    def xy(n: int, value: float) -> str:
        x = left + plot_w * n / count
        y = top + plot_h * (1 - value / 3600 / peak)
        return f"{x:.1f},{y:.1f}"

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<text x="{left}" y="18" font-size="14">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#444"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#444"/>',
    ]
    for k in range(5):
        value = peak * k / 4
        y = top + plot_h * (1 - k / 4)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.1f}</text>'
        )
    out.append(
        f'<text x="14" y="{top + plot_h / 2:.0f}" transform="rotate(-90 14 {top + plot_h / 2:.0f})" '
        'text-anchor="middle">runner-hours per commit</text>'
    )
    if commits:
        out.append(
            f'<text x="{left}" y="{top + plot_h + 16}">{escape(commits[0].commit.date[:10])}</text>'
            f'<text x="{left + plot_w}" y="{top + plot_h + 16}" text-anchor="end">'
            f"{escape(commits[-1].commit.date[:10])}</text>"
        )
    for n, variant in enumerate(history.variants):
        points = " ".join(xy(i, c.runner[variant]) for i, c in enumerate(commits))
        dash = ' stroke-dasharray="6 4"' if variant == "dag" else ""
        out.append(
            f'<polyline class="variant variant-{variant}" fill="none" stroke="{COLOURS[variant]}" '
            f'stroke-width="1.5"{dash} points="{points}"/>'
        )
        lx = left + (n % 2) * 300
        ly = top + plot_h + 34 + (n // 2) * 16
        out.append(
            f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 20}" y2="{ly - 4}" stroke="{COLOURS[variant]}" '
            f'stroke-width="2"{dash}/><text x="{lx + 26}" y="{ly}">{escape(LABELS[variant])}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
