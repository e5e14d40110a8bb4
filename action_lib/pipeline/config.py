"""Pipeline settings (``rockshard-pipeline.toml``): runner labels and timeouts, layered.

Layers, each overriding the one before: ``[defaults]``, ``[platforms.<platform>]``,
``[stages.<stage>]``, ``[stages.<stage>.platforms.<platform>]``. Keys: ``runs-on`` (a label or
a list of labels) and ``timeout-minutes``. ``[workflow]`` holds ``max-waves`` (how many wave
jobs a workflow has) and ``max-timeout-minutes`` (the cap of jobs on runners without the
``self-hosted`` label: 360, GitHub-hosted runners' limit). ``[store]``: the artifact store of
trusted and untrusted runs (:mod:`action_lib.pipeline.run_store`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from action_lib.cache.inputs_config import InputsConfig, parse_inputs_table
from action_lib.errors import InputError
from action_lib.inputs.paths import label_problems
from action_lib.inputs.toml import TomlReader
from action_lib.pipeline.run_store import StoreTable, parse_store_table
from action_lib.topology.model import PLATFORMS

DEFAULT_RUNNERS = {"linux": "ubuntu-latest", "windows": "windows-latest"}
DEFAULT_TIMEOUT = 60
DEFAULT_MAX_WAVES = 6
MAX_WAVES = 12  # the wave-<k> outputs that actions/compute-matrix declares
HOSTED_MAX_TIMEOUT = 360  # GitHub-hosted runners stop a job after 6 hours
SELF_HOSTED_MAX_TIMEOUT = 4320  # the most rockshard allows on self-hosted runners (72 hours)
JOB_KEYS = ("runs-on", "timeout-minutes")

RunsOn = str | tuple[str, ...]  # one runner label, or several (all must match)


def runs_on_text(runs_on: RunsOn) -> str:
    """Runner labels for people: ``a`` or ``[a, b]``."""
    return runs_on if isinstance(runs_on, str) else f"[{', '.join(runs_on)}]"


@dataclass(frozen=True)
class JobSettings:
    """Where and how long one stage job runs."""

    runs_on: RunsOn
    timeout_minutes: int


@dataclass(frozen=True)
class PipelineConfig:
    """Layered runner and timeout settings."""

    defaults: Mapping[str, Any] = field(default_factory=dict)
    platforms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    stages: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    stage_platforms: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    max_waves: int = DEFAULT_MAX_WAVES
    max_timeout_minutes: int = HOSTED_MAX_TIMEOUT
    store: StoreTable = field(default_factory=lambda: StoreTable({}))
    path: str = ""  # the settings file, for messages
    where: Mapping[tuple[str, ...], int] = field(default_factory=dict)  # layer key -> line
    inputs: InputsConfig = field(default_factory=InputsConfig)  # [inputs]: what builds read

    def file_layer(self) -> dict[str, tuple[object, str]]:
        """The ``[workflow]`` values this file sets, each with its ``file:line``: the settings
        file layer of :class:`~action_lib.settings.layers.Layers`."""
        out: dict[str, tuple[object, str]] = {}
        line = self.where.get(("workflow", "max-waves"))
        if line is not None:
            out["max-waves"] = (self.max_waves, f"{self.path}:{line}")
        return out

    def platform_settings(self, platform: str) -> JobSettings:
        """The settings of a job of ``platform`` that no stage table names (setup, assembly)."""
        return self.settings("", platform)

    def settings(self, stage: str, platform: str) -> JobSettings:
        """The settings of ``stage`` on ``platform``, all layers applied.

        Raises InputError when the timeout exceeds what the job's runner allows: 360 minutes
        (``[workflow] max-timeout-minutes``) unless its labels include ``self-hosted``.
        """
        merged: dict[str, Any] = {
            "runs-on": DEFAULT_RUNNERS.get(platform, "ubuntu-latest"),
            "timeout-minutes": DEFAULT_TIMEOUT,
        }
        origin = "the default"
        for where, layer in (
            (("defaults",), self.defaults),
            (("platforms", platform), self.platforms.get(platform, {})),
            (("stages", stage), self.stages.get(stage, {})),
            (
                ("stages", stage, "platforms", platform),
                self.stage_platforms.get((stage, platform), {}),
            ),
        ):
            merged.update(layer)
            if "timeout-minutes" in layer:
                line = self.where.get((*where, "timeout-minutes"), 0)
                origin = f"[{'.'.join(where)}] in {self.path}" + (f":{line}" if line else "")
        runs_on: RunsOn = merged["runs-on"]
        if isinstance(runs_on, list):
            runs_on = tuple(str(label) for label in runs_on)
        timeout = int(merged["timeout-minutes"])
        self_hosted = not isinstance(runs_on, str) and "self-hosted" in runs_on
        cap = SELF_HOSTED_MAX_TIMEOUT if self_hosted else self.max_timeout_minutes
        if timeout > cap:
            job = f"stage {stage}" if stage else "the pipeline's own jobs"
            raise InputError(
                f"{job} on {platform}: timeout-minutes {timeout} ({origin}) exceeds {cap}, the "
                f"limit of runner {runs_on_text(runs_on)}: GitHub-hosted runners stop a job after "
                f"{HOSTED_MAX_TIMEOUT} minutes; for self-hosted runners list the 'self-hosted' "
                "label in runs-on or raise [workflow] max-timeout-minutes"
            )
        return JobSettings(runs_on, timeout)


TABLES = ("defaults", "platforms", "stages", "workflow", "store", "inputs")
WORKFLOW_KEYS = ("max-waves", "max-timeout-minutes")


def _runs_on_problem(value: object) -> str:
    """What is wrong with a ``runs-on`` value ("" when nothing)."""
    if isinstance(value, str):
        if not value.strip():
            return "must be a non-empty label or a list of labels"
        if "," in value:
            labels = ", ".join(f'"{v.strip()}"' for v in value.split(",") if v.strip())
            return (
                f"'{value}' is one label with commas in it, which no runner has (the job would "
                f"queue forever): write the labels as a list, runs-on = [{labels}]"
            )
        return ""
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, str) and v.strip() and "," not in v for v in value)
    ):
        return ""
    return "must be a non-empty label or a non-empty list of labels"


def _label_problems(value: str | list[str]) -> list[str]:
    """What is wrong with each runner label of a well-typed ``runs-on``."""
    labels = [value] if isinstance(value, str) else value
    return [f"runner label '{one}' {problem}" for one in labels for problem in label_problems(one)]


def _int_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _job_layer(
    reader: TomlReader, at: dict[tuple[str, ...], int], data: object, *where: str
) -> dict[str, Any]:
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
        elif key == "runs-on" and (problem := _runs_on_problem(value)):
            reader.add("type", f"'runs-on' in [{label}] {problem}", *where, key)
        elif key == "runs-on" and _label_problems(value):
            # Labels reach the workflow's matrix: letters, digits, '.', '_' and '-' only.
            for problem in _label_problems(value):
                reader.add("label", f"{problem} in [{label}]", *where, key)
        elif key == "timeout-minutes" and not _int_in(value, 1, SELF_HOSTED_MAX_TIMEOUT):
            reader.add(
                "type",
                f"'timeout-minutes' in [{label}] must be an integer from 1 to "
                f"{SELF_HOSTED_MAX_TIMEOUT} ({HOSTED_MAX_TIMEOUT} on GitHub-hosted runners)",
                *where,
                key,
            )
        else:
            layer[key] = value
            key_path = (*where, key)
            at[key_path] = reader.line(*key_path)
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
    at: dict[tuple[str, ...], int] = {}
    defaults = _job_layer(reader, at, data.get("defaults", {}), "defaults")
    platforms: dict[str, dict[str, Any]] = {}
    for name, body in reader.table(data.get("platforms", {}), "platforms").items():
        _platform(reader, name, "platforms", name)
        platforms[name] = _job_layer(reader, at, body, "platforms", name)
    stage_layers: dict[str, dict[str, Any]] = {}
    stage_platforms: dict[tuple[str, str], dict[str, Any]] = {}
    for name, body in reader.table(data.get("stages", {}), "stages").items():
        if stages and name not in stages:
            reader.unknown("unknown-ref", "stage", name, stages, "stages", name)
        stage_layers[name] = _job_layer(reader, at, body, "stages", name)
        if isinstance(body, dict):
            where = ("stages", name, "platforms")
            for platform, sub in reader.table(body.get("platforms", {}), *where).items():
                _platform(reader, platform, *where, platform)
                stage_platforms[(name, platform)] = _job_layer(reader, at, sub, *where, platform)
    workflow = reader.table(data.get("workflow", {}), "workflow")
    reader.unknown_keys(workflow, WORKFLOW_KEYS, "workflow", listing="")
    limits = {"max-waves": DEFAULT_MAX_WAVES, "max-timeout-minutes": HOSTED_MAX_TIMEOUT}
    tops = {"max-waves": MAX_WAVES, "max-timeout-minutes": SELF_HOSTED_MAX_TIMEOUT}
    for key in limits:
        value = workflow.get(key, limits[key])
        if _int_in(value, 1, tops[key]):
            limits[key] = int(value)
            if key in workflow:
                at[("workflow", key)] = reader.line("workflow", key)
        else:
            reader.add("type", f"'{key}' must be an integer from 1 to {tops[key]}", "workflow", key)
    store = parse_store_table(reader, data.get("store", {}))
    inputs = parse_inputs_table(reader, stages)
    reader.raise_findings()
    return PipelineConfig(
        defaults,
        platforms,
        stage_layers,
        stage_platforms,
        max_waves=limits["max-waves"],
        max_timeout_minutes=limits["max-timeout-minutes"],
        store=store,
        path=path,
        where=at,
        inputs=inputs,
    )
