"""The ``[inputs]`` table of ``rockshard-pipeline.toml``: what a stage's build reads. Pure.

One declaration drives both stage keys (:mod:`action_lib.cache.keys`) and impact
(:mod:`action_lib.impact`):

```toml
[inputs]
every-stage = ["CMakeLists.txt", "cmake/"]   # read by every stage's build: in every key
no-stage = [".github/", "docs/", "*.md"]       # read by no stage's build: in no key
environment = ["ROCKSHARD_IMAGE"]             # environment values in every key

[inputs.stages.math-libs]
paths = ["build_tools/math/"]                 # read by this stage too: in its key
environment = ["ROCM_BLAS_TUNING"]
```

``every-stage`` and stage ``paths`` name files or folders (their git blob or tree ids enter
the keys); ``no-stage`` may also hold patterns (``*.md``, ``build_tools/*/tests/``), matched
as impact matches them. For impact, ``every-stage`` is ``affects_all``, ``no-stage`` is
``affects_none`` and each stage's ``paths`` map to its artifact groups.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from action_lib.impact.rules import ImpactRules, parse_rules
from action_lib.inputs.toml import TomlReader
from action_lib.sources.layout import norm_path
from action_lib.topology.model import Topology

TABLE = "inputs"
KEYS = ("every-stage", "no-stage", "environment", "stages")
STAGE_KEYS = ("paths", "environment")
# Without an [inputs] table: the top CMakeLists.txt and cmake/ are read by every stage;
# documentation and CI definitions by none. Anything else no source set owns is in every key.
DEFAULT_EVERY_STAGE = ("CMakeLists.txt", "cmake/")
DEFAULT_NO_STAGE = ("docs/", "*.md", "LICENSE", ".gitignore", ".github/")
# Files the key reads through the model, not as blobs: the topology (each stage's own part,
# canonicalised), .gitmodules (the submodule paths) and this settings file.
MODEL_FILES = (".gitmodules",)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_pattern(text: str) -> bool:
    """True when ``text`` is a glob, not a plain path."""
    return any(c in text for c in "*?[")


@dataclass(frozen=True)
class StageInputs:
    """What one stage's build reads beyond its source sets and the every-stage inputs."""

    paths: tuple[str, ...] = ()
    environment: tuple[str, ...] = ()


@dataclass(frozen=True)
class InputsConfig:
    """The declared build inputs (the defaults when no ``[inputs]`` table is given)."""

    every_stage: tuple[str, ...] = DEFAULT_EVERY_STAGE
    no_stage: tuple[str, ...] = DEFAULT_NO_STAGE
    environment: tuple[str, ...] = ()
    stages: Mapping[str, StageInputs] = field(default_factory=dict)
    declared: bool = False  # an [inputs] table was given
    origin: str = ""  # the file it came from
    lines: Mapping[str, int] = field(default_factory=dict)  # path or name -> its line

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", MappingProxyType(dict(self.stages)))
        object.__setattr__(self, "lines", MappingProxyType(dict(self.lines)))

    def where(self, name: str) -> tuple[str, int]:
        """(file, line) of a declared path or variable, for findings."""
        return self.origin or "[inputs]", self.lines.get(name, 0)

    def stage_paths(self) -> dict[str, tuple[str, ...]]:
        """Declared path (normalised) -> the stages that declare it, sorted."""
        out: dict[str, set[str]] = {}
        for stage, declared in self.stages.items():
            for path in declared.paths:
                out.setdefault(norm_path(path), set()).add(stage)
        return {k: tuple(sorted(v)) for k, v in sorted(out.items())}

    def impact_rules(
        self, topology: Topology, topology_file: str, settings_file: str = ""
    ) -> ImpactRules:
        """The impact rules this declaration implies: every-stage paths, and the model files
        (the topology, ``.gitmodules``, this settings file: keys read the part of them that
        concerns a stage, impact cannot), affect all stages; no-stage paths none; each
        stage's paths map to its artifact groups."""
        folders: dict[str, set[str]] = {}
        for path, stages in self.stage_paths().items():
            for stage in stages:
                groups = topology.build_stages[stage].artifact_groups
                folders.setdefault(path, set()).update(groups)
        model = (topology_file, *MODEL_FILES, *([settings_file] if settings_file else []))
        every = tuple(dict.fromkeys((*self.every_stage, *model)))
        return ImpactRules(
            affects_all=every,
            affects_none=self.no_stage,
            folders={k: tuple(sorted(v)) for k, v in folders.items()},
        )


def _strings(reader: TomlReader, value: object, what: str, *key: str) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        reader.add("type", f"{what} must be a list of non-empty strings", *key)
        return None
    return tuple(v.strip() for v in value)


def _check_paths(reader: TomlReader, values: tuple[str, ...], what: str, *key: str) -> None:
    for value in values:
        path = norm_path(value)
        if is_pattern(value):
            reader.add(
                "input-path",
                f"{what} '{value}' is a pattern: name a file or folder (its git id enters "
                "the keys); patterns belong in no-stage",
                *key,
            )
        elif path == "" or ".." in path.split("/"):
            reader.add("input-path", f"{what} '{value}' is not a path inside the repository", *key)


def _check_env(reader: TomlReader, values: tuple[str, ...], what: str, *key: str) -> None:
    for value in values:
        if not _ENV_NAME.match(value):
            reader.add("input-env", f"{what} '{value}' is not an environment variable name", *key)


def _listed(
    reader: TomlReader, table: Mapping[str, Any], names: Sequence[str], what: str, *key: str
) -> dict[str, tuple[str, ...]]:
    """The string lists ``names`` of ``table`` (at ``key``), each checked."""
    out: dict[str, tuple[str, ...]] = {}
    for name in names:
        if name in table:
            got = _strings(reader, table[name], f"'{name}' {what}", *key, name)
            if got is not None:
                out[name] = got
    return out


def parse_inputs_table(reader: TomlReader, stages: Sequence[str] = ()) -> InputsConfig:
    """The ``[inputs]`` table of a settings file being read (the defaults when it has none);
    every problem becomes a located finding of ``reader``. ``stages`` are the topology's stage
    names (a stage table with a typo is a finding)."""
    if TABLE not in reader.data:
        return InputsConfig(origin=reader.path)
    body = reader.table(reader.data[TABLE], TABLE)
    reader.unknown_keys(body, KEYS, TABLE)
    values = _listed(reader, body, ("every-stage", "no-stage", "environment"), "in [inputs]", TABLE)
    at = {v: reader.line(TABLE, name) for name, listed in values.items() for v in listed}
    _check_paths(reader, values.get("every-stage", ()), "every-stage path", TABLE, "every-stage")
    _check_env(reader, values.get("environment", ()), "environment", TABLE, "environment")
    stage_inputs: dict[str, StageInputs] = {}
    for stage, raw in reader.table(body.get("stages", {}), TABLE, "stages").items():
        key = (TABLE, "stages", stage)
        if stages and stage not in stages:
            reader.unknown("unknown-ref", "stage", stage, stages, *key, within="in [inputs.stages]")
        table = reader.table(raw, *key)
        reader.unknown_keys(table, STAGE_KEYS, *key)
        got = _listed(reader, table, STAGE_KEYS, f"of stage {stage}", *key)
        for name, listed in got.items():
            at.update({v: at.get(v, reader.line(*key, name)) for v in listed})
        _check_paths(reader, got.get("paths", ()), f"path of stage {stage}", *key, "paths")
        _check_env(
            reader, got.get("environment", ()), f"environment of stage {stage}", *key, "environment"
        )
        stage_inputs[stage] = StageInputs(got.get("paths", ()), got.get("environment", ()))
    return InputsConfig(
        every_stage=values.get("every-stage", DEFAULT_EVERY_STAGE),
        no_stage=values.get("no-stage", DEFAULT_NO_STAGE),
        environment=values.get("environment", ()),
        stages=stage_inputs,
        declared=True,
        origin=reader.path,
        lines=at,
    )


def rules_from_file(
    text: str, file: str, topology: Topology, topology_file: str = "BUILD_TOPOLOGY.toml"
) -> ImpactRules:
    """Impact rules from ``file``: its ``[impact]`` table, or, in a pipeline settings file
    without one, the rules its ``[inputs]`` declaration implies (the declaration the stage
    keys use, so impact and keys agree). FindingsError for a bad file."""
    reader = TomlReader(text, file)
    reader.raise_findings()
    if "impact" in reader.data or TABLE not in reader.data:
        return parse_rules(text, file, topology)
    inputs = parse_inputs_table(reader, tuple(topology.build_stages))
    reader.raise_findings()
    return inputs.impact_rules(topology, topology_file)
