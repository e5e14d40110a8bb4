"""Pipeline settings (``rockshard-pipeline.toml``): runner labels and timeouts, layered.

Layers, each overriding the one before: ``[defaults]``, ``[platforms.<platform>]``,
``[stages.<stage>]``, ``[stages.<stage>.platforms.<platform>]``. Keys: ``runs-on`` and
``timeout-minutes``. ``[workflow]`` holds ``max-waves`` (how many wave jobs a workflow has).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from action_lib.inputs.toml import TomlReader
from action_lib.topology.model import PLATFORMS

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


TABLES = ("defaults", "platforms", "stages", "workflow")
WORKFLOW_KEYS = ("max-waves",)


def _int_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _job_layer(reader: TomlReader, data: object, *where: str) -> dict[str, Any]:
    label = ".".join(where)
    if not isinstance(data, dict):
        reader.add("type", f"[{label}] must be a table", *where)
        return {}
    layer: dict[str, Any] = {}
    for key, value in data.items():
        if key == "platforms" and len(where) == 2 and where[0] == "stages":
            continue
        if key not in JOB_KEYS:
            reader.unknown(
                "unknown-key",
                "key",
                key,
                JOB_KEYS,
                *where,
                key,
                within=f"in [{label}]",
                listing="known keys",
            )
        elif key == "runs-on" and not (isinstance(value, str) and value):
            reader.add("type", f"'runs-on' in [{label}] must be a non-empty string", *where, key)
        elif key == "timeout-minutes" and not _int_in(value, 1, 4320):
            reader.add(
                "type",
                f"'timeout-minutes' in [{label}] must be an integer from 1 to 4320 (GitHub's limit for self-hosted runners)",
                *where,
                key,
            )
        else:
            layer[key] = value
    return layer


def _platform(reader: TomlReader, name: str, *where: str) -> None:
    if name not in PLATFORMS:
        reader.unknown("enum", "platform", name, PLATFORMS, *where)


def parse_pipeline_config(text: str, path: str, stages: tuple[str, ...] = ()) -> PipelineConfig:
    """Parse settings text; every problem becomes a located finding (FindingsError).

    ``stages`` are the topology's stage names, to catch a stage table with a typo.
    """
    reader = TomlReader(text, path)
    reader.raise_findings()  # a syntax error: nothing else to check
    data = reader.data
    for table in data:
        if table not in TABLES:
            reader.unknown("unknown-table", "table", table, TABLES, table, shown=f"[{table}]")
    defaults = _job_layer(reader, data.get("defaults", {}), "defaults")
    platforms: dict[str, dict[str, Any]] = {}
    for name, body in reader.table(data.get("platforms", {}), "platforms").items():
        _platform(reader, name, "platforms", name)
        platforms[name] = _job_layer(reader, body, "platforms", name)
    stage_layers: dict[str, dict[str, Any]] = {}
    stage_platforms: dict[tuple[str, str], dict[str, Any]] = {}
    for name, body in reader.table(data.get("stages", {}), "stages").items():
        if stages and name not in stages:
            reader.unknown("unknown-ref", "stage", name, stages, "stages", name)
        stage_layers[name] = _job_layer(reader, body, "stages", name)
        if isinstance(body, dict):
            where = ("stages", name, "platforms")
            for platform, sub in reader.table(body.get("platforms", {}), *where).items():
                _platform(reader, platform, *where, platform)
                stage_platforms[(name, platform)] = _job_layer(reader, sub, *where, platform)
    workflow = reader.table(data.get("workflow", {}), "workflow")
    reader.unknown_keys(workflow, WORKFLOW_KEYS, "workflow", listing="")
    max_waves = workflow.get("max-waves", DEFAULT_MAX_WAVES)
    if not _int_in(max_waves, 1, MAX_WAVES):
        reader.add(
            "type", f"'max-waves' must be an integer from 1 to {MAX_WAVES}", "workflow", "max-waves"
        )
    reader.raise_findings()
    return PipelineConfig(defaults, platforms, stage_layers, stage_platforms, int(max_waves))
