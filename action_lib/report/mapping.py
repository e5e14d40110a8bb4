"""Which stage and GPU family a job built, and which phase each of its steps was. Pure.

A replay knows a job's matrix; GitHub's API gives only its name. rockshard's generated
workflows name a stage job ``wave K: STAGE FAMILY``; other workflows are matched by the first
stage name (and GPU family) that appears in the job's name as a word.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from action_lib.errors import InputError

PHASES = ("queue", "sources", "fetch", "configure", "build", "push", "other")
STEP_PHASES = PHASES[1:]  # queue is no step: it is the wait before a job starts

# First match wins, on the step's name, case-insensitively. Post steps, GitHub's own set-up
# and completion, and installing tools are "other".
DEFAULT_PHASE_RULES: tuple[tuple[str, str], ...] = (
    ("other", r"^(post\b|set up job|complete job)"),
    ("sources", r"checkout|sources|submodule"),
    ("fetch", r"setup-stage|fetch|download|bootstrap"),
    ("configure", r"configure"),
    ("push", r"push|upload"),
    ("build", r"build|compile|ninja"),
)
_WAVE_NAME = re.compile(r"(?:^|/)\s*wave[ -](\d+)(?::\s*(\S+)(?:\s+(\S+))?)?\s*$")


@dataclass(frozen=True)
class PhaseRules:
    """Ordered (phase, pattern) rules; the first whose pattern a step's name matches wins."""

    rules: tuple[tuple[str, re.Pattern[str]], ...]

    def phase(self, step_name: str) -> str:
        """The phase of a step named ``step_name`` ("other" when no rule matches)."""
        for phase, pattern in self.rules:
            if pattern.search(step_name):
                return phase
        return "other"


def phase_rules(extra: Sequence[str] = ()) -> PhaseRules:
    """The default rules, after ``extra`` rules given as ``PHASE=REGEX`` (they win)."""
    parsed: list[tuple[str, re.Pattern[str]]] = []
    for text in extra:
        phase, sep, pattern = text.partition("=")
        if not sep or phase not in STEP_PHASES:
            raise InputError(
                f"step phase rule '{text}': write PHASE=REGEX, PHASE one of {', '.join(STEP_PHASES)}"
            )
        try:
            parsed.append((phase, re.compile(pattern, re.IGNORECASE)))
        except re.error as exc:
            raise InputError(f"step phase rule '{text}': bad regular expression: {exc}") from None
    parsed += [(p, re.compile(r, re.IGNORECASE)) for p, r in DEFAULT_PHASE_RULES]
    return PhaseRules(tuple(parsed))


@dataclass(frozen=True)
class JobIdentity:
    """What a job built: a stage ("" for a pipeline job such as setup), its family, its wave."""

    stage: str = ""
    family: str = ""
    wave: int | None = None

    @property
    def label(self) -> str:
        """``stage family`` (``stage`` for a generic stage)."""
        return f"{self.stage} {self.family}".strip()


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s:/,()\[\]]+", name) if w]


def identify(
    name: str,
    matrix: Mapping[str, str],
    job_id: str,
    stages: Collection[str],
    families: Iterable[str] = (),
) -> JobIdentity:
    """Map a job to its stage, family and wave, from its matrix (a replay), else its name."""
    wave: int | None = None
    for text in (job_id, name):
        found = _WAVE_NAME.search(text.strip())
        if found:
            wave = int(found.group(1))
            break
    stage = matrix.get("stage", "")
    if stage in stages:
        return JobIdentity(stage, matrix.get("family", ""), wave)
    found = _WAVE_NAME.search(name.strip())
    if found and found.group(2) in stages:
        return JobIdentity(found.group(2), found.group(3) or "", wave)
    words = _words(name)
    named = [w for w in words if w in stages]
    if not named:
        return JobIdentity("", "", wave)
    known = set(families)
    family = next((w for w in words if w in known), "")
    return JobIdentity(max(named, key=len), family, wave)
