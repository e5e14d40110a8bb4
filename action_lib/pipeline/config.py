"""Pipeline settings (``rockshard-pipeline.toml``): runner labels and timeouts, layered.

Layers, each overriding the one before: ``[defaults]``, ``[platforms.<platform>]``,
``[stages.<stage>]``, ``[stages.<stage>.platforms.<platform>]``. Keys: ``runs-on`` and
``timeout-minutes``. ``[workflow]`` holds ``max-waves`` (how many wave jobs a workflow has).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from action_lib.errors import Finding, FindingsError
from action_lib.topology.lines import LineIndex
from action_lib.topology.loader import suggest
from action_lib.topology.model import PLATFORMS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DEFAULT_RUNNERS = {"linux": "ubuntu-latest", "windows": "windows-latest"}
DEFAULT_TIMEOUT = 60
DEFAULT_MAX_WAVES = 6
MAX_WAVES = 12  # the wave-<k> outputs that actions/compute-matrix declares
JOB_KEYS = ("runs-on", "timeout-minutes")


@dataclass(frozen=True)
class JobSettings:
    """Where and how long one stage job runs."""

    runs_on: str
    timeout_minutes: int


@dataclass(frozen=True)
class PipelineConfig:
    """Layered runner and timeout settings."""

    defaults: Mapping[str, Any] = field(default_factory=dict)
    platforms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    stages: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    stage_platforms: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    max_waves: int = DEFAULT_MAX_WAVES

    def settings(self, stage: str, platform: str) -> JobSettings:
        """The settings of ``stage`` on ``platform``, all layers applied."""
        merged: dict[str, Any] = {
            "runs-on": DEFAULT_RUNNERS.get(platform, "ubuntu-latest"),
            "timeout-minutes": DEFAULT_TIMEOUT,
        }
        for layer in (
            self.defaults,
            self.platforms.get(platform, {}),
            self.stages.get(stage, {}),
            self.stage_platforms.get((stage, platform), {}),
        ):
            merged.update(layer)
        return JobSettings(str(merged["runs-on"]), int(merged["timeout-minutes"]))


def _job_layer(
    data: object, where: tuple[str, ...], path: str, lines: LineIndex, out: list[Finding]
) -> dict[str, Any]:
    label = ".".join(where)
    if not isinstance(data, dict):
        out.append(Finding(path, lines.line(*where), "type", f"[{label}] must be a table"))
        return {}
    layer: dict[str, Any] = {}
    for key, value in data.items():
        if key == "platforms" and len(where) == 2 and where[0] == "stages":
            continue
        at = lines.line(*where, key)
        if key not in JOB_KEYS:
            out.append(
                Finding(
                    path,
                    at,
                    "unknown-key",
                    f"unknown key '{key}' in [{label}]",
                    suggest(key, JOB_KEYS) or f"known keys: {', '.join(JOB_KEYS)}",
                )
            )
        elif key == "runs-on" and not (isinstance(value, str) and value):
            out.append(
                Finding(path, at, "type", f"'runs-on' in [{label}] must be a non-empty string")
            )
        elif key == "timeout-minutes" and not (
            isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4320
        ):
            out.append(
                Finding(
                    path,
                    at,
                    "type",
                    f"'timeout-minutes' in [{label}] must be an integer from 1 to 4320 (GitHub's limit for self-hosted runners)",
                )
            )
        else:
            layer[key] = value
    return layer


def parse_pipeline_config(text: str, path: str, stages: tuple[str, ...] = ()) -> PipelineConfig:
    """Parse settings text; every problem becomes a located finding (FindingsError).

    ``stages`` are the topology's stage names, to catch a stage table with a typo.
    """
    lines = LineIndex(text)
    findings: list[Finding] = []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FindingsError([Finding(path, 0, "toml", f"malformed TOML: {exc}")]) from None
    for table in data:
        if table not in ("defaults", "platforms", "stages", "workflow"):
            findings.append(
                Finding(
                    path,
                    lines.line(table),
                    "unknown-table",
                    f"unknown table [{table}]",
                    suggest(table, ("defaults", "platforms", "stages", "workflow")),
                )
            )
    defaults = _job_layer(data.get("defaults", {}), ("defaults",), path, lines, findings)
    platforms: dict[str, dict[str, Any]] = {}
    for name, body in dict(data.get("platforms", {})).items():
        if name not in PLATFORMS:
            findings.append(
                Finding(
                    path,
                    lines.line("platforms", name),
                    "enum",
                    f"unknown platform '{name}'",
                    suggest(name, PLATFORMS),
                )
            )
        platforms[name] = _job_layer(body, ("platforms", name), path, lines, findings)
    stage_layers: dict[str, dict[str, Any]] = {}
    stage_platforms: dict[tuple[str, str], dict[str, Any]] = {}
    for name, body in dict(data.get("stages", {})).items():
        if stages and name not in stages:
            findings.append(
                Finding(
                    path,
                    lines.line("stages", name),
                    "unknown-ref",
                    f"unknown stage '{name}'",
                    suggest(name, stages),
                )
            )
        stage_layers[name] = _job_layer(body, ("stages", name), path, lines, findings)
        if isinstance(body, dict):
            for platform, sub in dict(body.get("platforms", {})).items():
                if platform not in PLATFORMS:
                    findings.append(
                        Finding(
                            path,
                            lines.line("stages", name, "platforms", platform),
                            "enum",
                            f"unknown platform '{platform}'",
                            suggest(platform, PLATFORMS),
                        )
                    )
                stage_platforms[(name, platform)] = _job_layer(
                    sub, ("stages", name, "platforms", platform), path, lines, findings
                )
    workflow = data.get("workflow", {})
    max_waves = DEFAULT_MAX_WAVES
    if isinstance(workflow, dict):
        for key, value in workflow.items():
            if key != "max-waves":
                findings.append(
                    Finding(
                        path,
                        lines.line("workflow", key),
                        "unknown-key",
                        f"unknown key '{key}' in [workflow]",
                        suggest(key, ("max-waves",)),
                    )
                )
            elif not (
                isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_WAVES
            ):
                findings.append(
                    Finding(
                        path,
                        lines.line("workflow", key),
                        "type",
                        f"'max-waves' must be an integer from 1 to {MAX_WAVES}",
                    )
                )
            else:
                max_waves = value
    if findings:
        raise FindingsError(findings)
    return PipelineConfig(defaults, platforms, stage_layers, stage_platforms, max_waves)
