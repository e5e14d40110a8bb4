"""A run report as text, JSON and markdown (with a Mermaid gantt chart). Pure.

Job, step and run names come from GitHub's API (or a run file): text shows them through
:func:`~action_lib.inputs.untrusted.escape`, markdown through
:func:`~action_lib.inputs.untrusted.md`, the gantt chart keeps only plain characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from action_lib.inputs.untrusted import escape, md
from action_lib.report.analysis import JobTiming, RunReport
from action_lib.report.mapping import PHASES
from action_lib.report.model import iso

REPORT_FORMAT = "rockshard-report/1"


def duration(seconds: float) -> str:
    """``9.4s``, ``42s``, ``12m 05s``, ``2h 31m``."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An aligned plain-text table."""
    cells = [list(headers), *([escape(c) for c in r] for r in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(text: str) -> str:
        return md(text)

    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def job_rows(report: RunReport) -> list[list[str]]:
    """One row per job: name, wave, start, each phase, total, result."""
    rows = []
    for job in report.jobs:
        wave = job.identity.wave
        rows.append(
            [
                job.label,
                "-" if wave is None else str(wave),
                _clock(job.start),
                *(duration(job.phases[p]) if job.phases[p] else "-" for p in PHASES),
                duration(job.seconds),
                job.record.conclusion or "-",
            ]
        )
    return rows


JOB_HEADERS = ("job", "wave", "start", *PHASES, "total", "result")
WAVE_HEADERS = ("wave", "jobs", "span", "slowest job", "its time", "waited on it")


def wave_rows(report: RunReport) -> list[list[str]]:
    """One row per wave."""
    return [
        [
            str(w.wave),
            str(len(w.jobs)),
            duration(w.end - w.start),
            w.slowest,
            duration(w.slowest_seconds),
            duration(w.waited),
        ]
        for w in report.waves
    ]


def path_text(report: RunReport, arrow: str = " -> ", show: Callable[[str], str] = escape) -> str:
    """The critical path, and its work and wall time."""
    path = report.critical_path
    if not path:
        return "no stage job finished"
    work = sum(j.seconds for j in path)
    span = path[-1].end - path[0].start
    return (
        arrow.join(show(j.label) for j in path)
        + f": {duration(work)} of work over {duration(span)} (waiting {duration(span - work)})"
    )


def headline(report: RunReport) -> str:
    """One line: what ran, wall time, runner time."""
    where = report.platform or "-"
    return (
        f"{escape(report.run.title)} ({escape(where)}): {len(report.jobs)} jobs, wall {duration(report.wall)}, "
        f"runner time {duration(report.runner_seconds)} (billed {report.billed_minutes} min)"
    )


def notes(report: RunReport) -> list[str]:
    """What the report could not count: stage jobs that did not run, ran twice, still run."""
    out = []
    if report.missing:
        out.append("no timing (the stage job did not run): " + _names(report.missing))
    if report.duplicates:
        out.append("ran more than once: " + _names(report.duplicates))
    if report.running:
        out.append("still running, not counted: " + _names(report.running))
    return out


def _names(names: Sequence[str]) -> str:
    return ", ".join(escape(n) for n in names)


def _phase_share(report: RunReport) -> str:
    totals = report.phase_totals()
    whole = sum(totals.values())
    if whole <= 0:
        return "-"
    return ", ".join(
        f"{p} {duration(totals[p])} ({100 * totals[p] / whole:.0f}%)" for p in PHASES if totals[p]
    )


def report_text(report: RunReport) -> str:
    """The report for a terminal."""
    parts = [
        headline(report),
        text_table(JOB_HEADERS, job_rows(report)),
        f"critical path (stage DAG): {path_text(report)}\n"
        f"stage jobs by phase: {_phase_share(report)}",
    ]
    if report.waves:
        parts.append(text_table(WAVE_HEADERS, wave_rows(report)))
    parts += notes(report)
    return "\n\n".join(p.rstrip("\n") for p in parts) + "\n"


def _job_json(job: JobTiming) -> dict[str, Any]:
    return {
        "name": job.record.name,
        "job_id": job.record.job_id,
        "stage": job.identity.stage,
        "family": job.identity.family,
        "wave": job.identity.wave,
        "start": round(job.start, 3),
        "end": round(job.end, 3),
        "seconds": round(job.seconds, 3),
        "gap": round(job.gap, 3),
        "conclusion": job.record.conclusion,
        "phases": {p: round(job.phases[p], 3) for p in PHASES},
    }


def report_json(report: RunReport) -> dict[str, Any]:
    """The report as JSON (``rockshard-report/1``); ``rockshard simulate --timings`` reads it."""
    path = report.critical_path
    gaps = report.gaps
    run = report.run
    return {
        "format": REPORT_FORMAT,
        "run": {
            "source": run.source,
            "title": run.title,
            "url": run.url,
            "created": iso(run.created),
            "measured_seconds": run.measured_seconds,
        },
        "platform": report.platform,
        "families": list(report.families),
        "wall_seconds": round(report.wall, 3),
        "runner_seconds": round(report.runner_seconds, 3),
        "billed_minutes": report.billed_minutes,
        "jobs": [_job_json(j) for j in report.jobs],
        "running": list(report.running),
        "critical_path": {
            "jobs": [j.label for j in path],
            "work_seconds": round(sum(j.seconds for j in path), 3),
            "span_seconds": round(path[-1].end - path[0].start, 3) if path else 0.0,
        },
        "waves": [
            {
                "wave": w.wave,
                "jobs": list(w.jobs),
                "start": round(w.start, 3),
                "end": round(w.end, 3),
                "slowest": w.slowest,
                "slowest_seconds": round(w.slowest_seconds, 3),
                "waited_seconds": round(w.waited, 3),
            }
            for w in report.waves
        ],
        "phase_totals": {p: round(s, 3) for p, s in report.phase_totals().items()},
        "overhead_seconds": {
            "mean": round(sum(gaps) / len(gaps), 3) if gaps else 0.0,
            "max": round(max(gaps, default=0.0), 3),
        },
        "stage_edges": [list(e) for e in report.stage_edges],
        "missing": list(report.missing),
        "duplicates": list(report.duplicates),
    }


def _mermaid_name(text: str) -> str:
    # Plain characters only: a name must not end the chart's code fence or its line.
    return re.sub(r"[^\w .()\[\]/+-]", " ", escape(text, 200)).strip() or "job"


def mermaid_gantt(report: RunReport) -> str:
    """A Mermaid ``gantt`` chart of the jobs, the critical path marked ``crit``."""
    critical = {id(j) for j in report.critical_path}
    lines = [
        "gantt",
        f"  title {_mermaid_name(report.run.title)}",
        "  dateFormat X",
        "  axisFormat %H:%M:%S",
    ]
    section = None
    for n, job in enumerate(sorted(report.jobs, key=lambda j: (_section(j), j.start, j.label))):
        name = _section(job)
        if name != section:
            lines.append(f"  section {name}")
            section = name
        tags = ["crit"] if id(job) in critical else []
        if job.record.conclusion not in ("", "success", "skipped"):
            tags.append("active")
        tags.append(f"j{n}")
        start = round(job.start)
        length = max(1, round(job.seconds))
        lines.append(f"  {_mermaid_name(job.label)} :{', '.join(tags)}, {start}, {length}s")
    return "\n".join(lines) + "\n"


def _section(job: JobTiming) -> str:
    wave = job.identity.wave
    if job.is_stage:
        return f"wave {wave}" if wave is not None else "stages"
    return "pipeline"


def report_markdown(report: RunReport) -> str:
    """The report for a job summary: headline, Mermaid gantt, jobs, waves."""
    parts = [
        f"### rockshard run report: {md(report.run.title)}",
        "",
        f"**wall** {duration(report.wall)} · **runner time** {duration(report.runner_seconds)} "
        f"(billed {report.billed_minutes} min) · **jobs** {len(report.jobs)}",
        "",
        f"**critical path** (stage DAG): {path_text(report, ' → ', md)}",
        "",
        f"**stage jobs by phase**: {_phase_share(report)}",
        "",
        "```mermaid",
        mermaid_gantt(report).rstrip("\n"),
        "```",
        "",
        _md_table(JOB_HEADERS, job_rows(report)),
    ]
    if report.waves:
        parts += [_md_table(WAVE_HEADERS, wave_rows(report))]
    parts += [f"- {md(n)}" for n in notes(report)]
    return "\n".join(parts).rstrip("\n") + "\n"
