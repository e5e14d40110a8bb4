"""Stage job durations for a simulation, from TheRock's published timings format, rockshard's
own ``stage_minutes`` table, or a ``rockshard report --format json``. Pure.

Published format (``published_timings.json``): sections of minutes. A section named
``<stage>_minutes_by_family`` holds ``{platform: {family: minutes}}``; other ``*minutes*``
sections hold ``"stage"`` or ``"stage/family"`` keys with a number or ``{"cold": m,
"warm": m}``; ``monolithic_per_family_minutes`` holds ``"platform/family": [low, high]``.
Keys that name no stage or GPU family of the topology (``rccl-link-gfx101X``,
``math-libs/gfx942-only``) are listed as ignored, never guessed at. In rockshard's own
``stage_minutes`` table (``"[platform/]stage[/family]": minutes``) such a key is an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from action_lib.errors import InputError
from action_lib.families import family_targets
from action_lib.inputs.suggest import unknown
from action_lib.topology.model import PLATFORMS, Topology

REPORT_FORMAT = "rockshard-report/1"
NOT_DURATIONS = ("workflow_timeouts_minutes", "sizes")
_BY_FAMILY = re.compile(r"^(.+)_minutes_by_family$")


@dataclass(frozen=True)
class Entry:
    """One duration as written: seconds, cold and (when given) warm."""

    where: str  # file: section.key, for messages
    platform: str  # "" for any platform
    stage: str
    family: str  # "" for every family (or a generic stage)
    cold: float
    warm: float | None = None
    strict: bool = False  # rockshard's own table: an unknown name is an error


@dataclass(frozen=True)
class TimingsFile:
    """What one timings file says, before it is checked against a topology."""

    origin: str
    entries: tuple[Entry, ...] = ()
    monolithic: tuple[tuple[str, str, float, float], ...] = ()  # platform, family, low, high
    before: float | None = None  # pipeline jobs before the stage jobs (a report's setup job)
    after: float | None = None  # ... and after them (its assemble job)
    overhead: float | None = None  # a report's mean start latency per job
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timings:
    """Durations in seconds, checked against a topology; later files override earlier ones."""

    origin: str
    jobs: Mapping[tuple[str, str, str], float]  # (platform or "", stage, family or "")
    monolithic: Mapping[tuple[str, str], tuple[float, float]]  # (platform, family)
    before: float | None = None
    after: float | None = None
    overhead: float | None = None
    ignored: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def job_seconds(self, platform: str, stage: str, family: str) -> float | None:
        """The duration of a stage job: per family before per stage, per platform before any."""
        for key in (
            (platform, stage, family),
            ("", stage, family),
            (platform, stage, ""),
            ("", stage, ""),
        ):
            if key in self.jobs:
                return self.jobs[key]
        return None

    def has_stage(self, platform: str, stage: str) -> bool:
        """True when some duration names ``stage`` (on ``platform`` or any)."""
        return any(s == stage and p in ("", platform) for p, s, _ in self.jobs)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InputError(f"{where}: not a number of minutes: {value!r}")
    return float(value)


def _split_key(key: str) -> tuple[str, str, str]:
    parts = key.split("/")
    platform = parts.pop(0) if len(parts) > 1 and parts[0] in PLATFORMS else ""
    return platform, parts[0], "/".join(parts[1:])


def _duration_entry(where: str, key: str, value: Any, strict: bool) -> Entry:
    platform, stage, family = _split_key(key)
    if isinstance(value, Mapping):
        if "cold" not in value:
            raise InputError(f'{where}: give a number of minutes or {{"cold": m, "warm": m}}')
        cold = _number(value["cold"], f"{where}.cold") * 60
        warm = _number(value["warm"], f"{where}.warm") * 60 if "warm" in value else None
        return Entry(where, platform, stage, family, cold, warm, strict)
    return Entry(where, platform, stage, family, _number(value, where) * 60, None, strict)


def _published(data: Mapping[str, Any], origin: str) -> TimingsFile:
    entries: list[Entry] = []
    monolithic: list[tuple[str, str, float, float]] = []
    ignored: list[str] = []
    for section, body in data.items():
        if section.startswith("_") or section == "format":
            continue
        where = f"{origin}: {section}"
        if section in NOT_DURATIONS or not isinstance(body, Mapping) or "minutes" not in section:
            ignored.append(f"{section} (not stage durations)")
            continue
        by_family = _BY_FAMILY.match(section)
        for key, value in body.items():
            if key.startswith("_"):
                continue
            at = f"{where}.{key}"
            if section == "monolithic_per_family_minutes":
                platform, family, rest = _split_key(key)
                if not platform or rest:
                    ignored.append(f"{section}.{key} (not platform/family)")
                    continue
                pair = value if isinstance(value, list) else [value, value]
                if len(pair) != 2:
                    raise InputError(f"{at}: give minutes or [low, high]")
                low, high = (_number(v, at) * 60 for v in pair)
                monolithic.append((platform, family, low, high))
            elif by_family:
                stage = by_family.group(1).replace("_", "-")
                if isinstance(value, Mapping):
                    platform = key if key in PLATFORMS else ""
                    for family, minutes in value.items():
                        seconds = _number(minutes, f"{at}.{family}") * 60
                        entries.append(Entry(f"{at}.{family}", platform, stage, family, seconds))
                else:
                    entries.append(Entry(at, "", stage, key, _number(value, at) * 60))
            else:
                entries.append(_duration_entry(at, key, value, section == "stage_minutes"))
    return TimingsFile(origin, tuple(entries), tuple(monolithic), ignored=tuple(ignored))


def _report(data: Mapping[str, Any], origin: str) -> TimingsFile:
    """Durations from ``rockshard report --format json``: each stage job's runner time, the
    pipeline jobs before and after them, and the measured per-job start latency."""
    platform = str(data.get("platform", ""))
    jobs = data.get("jobs")
    if not isinstance(jobs, list):
        raise InputError(f"{origin}: a report without 'jobs'")
    stage_jobs = [j for j in jobs if isinstance(j, Mapping) and j.get("stage")]
    first = min((float(j["start"]) for j in stage_jobs), default=0.0)
    entries = [
        Entry(
            f"{origin}: jobs.{j['stage']}/{j.get('family', '')}",
            platform,
            str(j["stage"]),
            str(j.get("family", "")),
            float(j["seconds"]),
        )
        for j in stage_jobs
    ]
    others = [j for j in jobs if isinstance(j, Mapping) and not j.get("stage")]
    before = sum(float(j["seconds"]) for j in others if float(j["start"]) < first)
    after = sum(float(j["seconds"]) for j in others if float(j["start"]) >= first)
    overhead = data.get("overhead_seconds", {})
    mean = overhead.get("mean") if isinstance(overhead, Mapping) else None
    return TimingsFile(
        origin,
        tuple(entries),
        before=before if others else None,
        after=after if others else None,
        overhead=float(mean) if isinstance(mean, (int, float)) else None,
    )


def parse_timings(text: str, origin: str) -> TimingsFile:
    """Read a timings file (published format, ``stage_minutes``, or a report's JSON)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{origin}: not JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise InputError(f"{origin}: a timings file is a JSON object")
    if data.get("format") == REPORT_FORMAT:
        try:
            return _report(data, origin)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{origin}: a job of the report lacks {exc}") from None
    return _published(data, origin)


def _family_known(family: str) -> bool:
    try:
        family_targets(family)
    except InputError:
        return False
    return True


def resolve_timings(files: Sequence[TimingsFile], topology: Topology, ccache: str) -> Timings:
    """Check the files against ``topology`` and merge them (later files win) for a ``cold``
    or ``warm`` compiler cache. Entries naming no stage or family are ignored and listed."""
    if ccache not in ("cold", "warm"):
        raise InputError(f"--ccache {ccache}: cold or warm")
    jobs: dict[tuple[str, str, str], float] = {}
    monolithic: dict[tuple[str, str], tuple[float, float]] = {}
    ignored: list[str] = []
    cold_only: list[str] = []
    before = after = overhead = None
    for file in files:
        ignored += [f"{file.origin}: {i}" for i in file.ignored]
        for entry in file.entries:
            stage = topology.build_stages.get(entry.stage)
            why = ""
            if stage is None:
                why = "no stage of that name"
                if entry.strict:
                    found = unknown("stage", entry.stage, topology.build_stages)
                    raise InputError(f"{entry.where}: {found}")
            elif entry.family and not _family_known(entry.family):
                why = f"'{entry.family}' is not a GPU family"
            elif entry.family and not stage.per_arch:
                why = f"{entry.stage} is built once, not per family"
            if why:
                if entry.strict:
                    raise InputError(f"{entry.where}: {why}")
                ignored.append(f"{entry.where} ({why})")
                continue
            seconds = entry.cold
            if ccache == "warm":
                if entry.warm is None:
                    cold_only.append(entry.where.partition(": ")[2])
                else:
                    seconds = entry.warm
            jobs[(entry.platform, entry.stage, entry.family)] = seconds
        for platform, family, low, high in file.monolithic:
            monolithic[(platform, family)] = (low, high)
        before = file.before if file.before is not None else before
        after = file.after if file.after is not None else after
        overhead = file.overhead if file.overhead is not None else overhead
    notes: tuple[str, ...] = ()
    if cold_only:
        notes = (f"no warm figure, the only one used: {', '.join(sorted(set(cold_only)))}",)
    return Timings(
        " + ".join(f.origin for f in files),
        jobs,
        monolithic,
        before,
        after,
        overhead,
        tuple(ignored),
        notes,
    )
