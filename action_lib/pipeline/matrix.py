"""Job matrices: the stage jobs of a pipeline, wave by wave. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from action_lib.errors import InputError
from action_lib.inputs.untrusted import md
from action_lib.pipeline.config import PipelineConfig, RunsOn, runs_on_text
from action_lib.topology import queries as q
from action_lib.topology.model import Conditions, Topology

MAX_MATRIX_ENTRIES = 256  # GitHub's limit of jobs one matrix may generate
MAX_OUTPUT_BYTES = 1024 * 1024  # GitHub's limit for all of one job's outputs together


@dataclass(frozen=True)
class MatrixEntry:
    """One stage job."""

    stage: str
    family: str
    runs_on: RunsOn
    timeout_minutes: int
    per_arch: bool
    sparse_checkout: str = ""  # cone paths for actions/checkout, one a line; "" = everything

    def to_json(self) -> dict[str, Any]:
        """The entry as the workflow's matrix sees it."""
        return {
            "stage": self.stage,
            "family": self.family,
            "runs-on": self.runs_on if isinstance(self.runs_on, str) else list(self.runs_on),
            "timeout-minutes": self.timeout_minutes,
            "sparse-checkout": self.sparse_checkout,
        }


@dataclass(frozen=True)
class Plan:
    """A pipeline's stage jobs in parallel waves."""

    platform: str
    families: tuple[str, ...]
    waves: tuple[tuple[MatrixEntry, ...], ...]

    def to_json(self) -> dict[str, Any]:
        """``{"waves": [[entry, ...], ...]}`` plus the platform and families."""
        return {
            "platform": self.platform,
            "families": list(self.families),
            "waves": [[e.to_json() for e in wave] for wave in self.waves],
        }


def plan_pipeline(
    topology: Topology,
    conditions: Conditions,
    families: Sequence[str],
    config: PipelineConfig,
    stages: Sequence[str] = (),
    sparse_paths: Mapping[str, Sequence[str]] | None = None,
) -> Plan:
    """The jobs of a pipeline on ``conditions.platform`` for ``families``, in waves.

    Stages that build nothing there get no job. ``stages`` restricts the plan to a subset
    (their upstream artifacts then come from elsewhere, such as an earlier run).
    ``sparse_paths`` gives a stage's sparse-checkout cone (absent: check out everything).
    """
    platform = conditions.platform or "linux"
    for stage in stages:
        q.require_stage(topology, stage)
    if not families and any(
        topology.build_stages[s].per_arch for s in q.active_stages(topology, conditions)
    ):
        raise InputError("no GPU families given: per-arch stages need at least one")
    wanted = set(stages) if stages else None
    waves: list[tuple[MatrixEntry, ...]] = []
    for wave in q.stage_waves(topology, conditions):
        entries: list[MatrixEntry] = []
        for stage in wave:
            if wanted is not None and stage not in wanted:
                continue
            settings = config.settings(stage, platform)
            per_arch = topology.build_stages[stage].per_arch
            cone = "\n".join((sparse_paths or {}).get(stage, ()))
            entries.extend(
                MatrixEntry(stage, f, settings.runs_on, settings.timeout_minutes, per_arch, cone)
                for f in (families if per_arch else ("",))
            )
        if entries:
            waves.append(tuple(entries))
    return Plan(platform, tuple(families), tuple(waves))


def without_jobs(plan: Plan, done: set[tuple[str, str]]) -> Plan:
    """The plan without the jobs in ``done`` ((stage, family) pairs, reused from the stage
    cache). Waves keep their places; a wave left empty is skipped by the workflow."""
    return Plan(
        plan.platform,
        plan.families,
        tuple(tuple(e for e in wave if (e.stage, e.family) not in done) for wave in plan.waves),
    )


def wave_outputs(plan: Plan, max_waves: int) -> dict[str, str]:
    """Step outputs: ``wave-<k>`` (a JSON list, ``[]`` when empty) for k < max_waves, and
    ``waves`` (the stage names per wave). Raises InputError past GitHub's limits (the size of
    all of a job's outputs together is checked by :func:`check_job_outputs`)."""
    if len(plan.waves) > max_waves:
        raise InputError(
            f"the pipeline needs {len(plan.waves)} waves but the workflow has {max_waves}: "
            "raise [workflow] max-waves in the pipeline settings and regenerate the workflow"
        )
    outputs: dict[str, str] = {}
    for k in range(max_waves):
        entries = plan.waves[k] if k < len(plan.waves) else ()
        if len(entries) > MAX_MATRIX_ENTRIES:
            raise InputError(
                f"wave {k} has {len(entries)} jobs; a GitHub matrix allows at most {MAX_MATRIX_ENTRIES}"
            )
        outputs[f"wave-{k}"] = json.dumps([e.to_json() for e in entries], separators=(",", ":"))
    outputs["waves"] = json.dumps(
        [sorted({e.stage for e in wave}) for wave in plan.waves], separators=(",", ":")
    )
    return outputs


def outputs_size(outputs: Mapping[str, str]) -> int:
    """The size GitHub counts for a job's outputs: names and values, as UTF-16 (2 bytes per
    code unit, 4 for characters outside the Basic Multilingual Plane)."""
    return sum(len(k.encode("utf-16-le")) + len(v.encode("utf-16-le")) for k, v in outputs.items())


def check_job_outputs(outputs: Mapping[str, str]) -> None:
    """InputError when all of a job's outputs together pass GitHub's 1 MB limit (checked before
    any output is written, so a job never sets half of them)."""
    size = outputs_size(outputs)
    if size > MAX_OUTPUT_BYTES:
        largest = max(outputs, key=lambda k: len(outputs[k]))
        raise InputError(
            f"the setup job's outputs take about {size} bytes counted as GitHub does (UTF-16), "
            f"over its limit of {MAX_OUTPUT_BYTES} for all of a job's outputs together (largest: "
            f"{largest}); plan fewer families or stages per run"
        )


def plan_table(plan: Plan) -> list[tuple[str, str, str, str, str]]:
    """Rows (wave, stage, family, runs-on, timeout) for people."""
    return [
        (str(k), e.stage, e.family or "-", runs_on_text(e.runs_on), str(e.timeout_minutes))
        for k, wave in enumerate(plan.waves)
        for e in wave
    ]


def plan_markdown(plan: Plan) -> str:
    """The plan as a markdown table for the job summary."""
    families = ", ".join(md(f) for f in plan.families) or "-"
    lines = [
        f"### rockshard plan: {md(plan.platform)}, families {families}",
        "",
        "| wave | stage | family | runs-on | timeout (min) |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines.extend(f"| {' | '.join(md(cell) for cell in row)} |" for row in plan_table(plan))
    return "\n".join(lines) + "\n"
