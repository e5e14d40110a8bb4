"""Stage keys: a stage job's result named by everything that goes into it. Pure.

A key is the sha256 of a canonical JSON document of named inputs, so a miss can say which
input changed:

- ``scheme``: the key scheme's version; ``stage``, ``family``, ``platform``, ``processor``,
  ``flags`` (the enabled flags the stage's artifacts name);
- ``topology``: the stage's own part of the topology (its groups and artifacts with their
  types, deps and platform rules, its inbound artifacts, its source sets), canonicalised, so
  an edit elsewhere in ``BUILD_TOPOLOGY.toml`` changes no other key;
- the stage's sources: ``submodule:NAME`` (the gitlink's commit), ``external:NAME`` (the
  pinned commit), ``source:PREFIX/`` (the git tree id of a path prefix);
- build inputs: ``input:PATH`` (every-stage paths and the stage's own, as git tree or blob
  ids) and ``unclaimed:PATH`` (paths nothing claims, in every key);
- the toolchain: ``toolchain:runs-on`` (the runner label) and ``env:NAME`` values;
- ``upstream:STAGE[FAMILY]``: the keys of the stages producing its inbound artifacts (a
  Merkle chain), in the *static* key. The *content* key has ``inbound:ARCHIVE`` digests
  instead (early cutoff: byte-identical inputs find the earlier result).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from action_lib.cache.classify import (
    EVERY_STAGE,
    SOURCE,
    STAGE_INPUT,
    UNCLAIMED,
    Classifier,
    RegionDigest,
    input_name,
    regions,
)
from action_lib.cache.inputs_config import InputsConfig
from action_lib.cache.tree import SourceTree
from action_lib.errors import Finding, FindingsError
from action_lib.sources.gitmodules import GitSubmodule
from action_lib.sources.layout import norm_path
from action_lib.topology import queries
from action_lib.topology.model import Artifact, Conditions, Topology

KEY_SCHEME = "rockshard-stage-key/1"
UPSTREAM = "upstream:"
INBOUND = "inbound:"
NONE = "none"  # a path input whose every path is held by another input or by none
UNSET = "(unset)"  # an environment value that is not set
FAMILY_LESS = ""  # the family of a per-arch stage's generic half


def _canonical(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def digest_of(inputs: Mapping[str, str], kind: str) -> str:
    """The sha256 (hex) of ``inputs`` of a ``kind`` of key ("static" or "content")."""
    return hashlib.sha256(_canonical({"kind": kind, "inputs": dict(inputs)})).hexdigest()


def job_label(stage: str, family: str) -> str:
    """``stage`` or ``stage[family]``."""
    return f"{stage}[{family}]" if family else stage


@dataclass(frozen=True)
class StageKey:
    """The key of one stage job and the named inputs it was computed from."""

    stage: str
    family: str
    key: str
    inputs: Mapping[str, str]
    kinds: Mapping[str, str] = field(default_factory=dict)  # input -> tree|blob|commit|...

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        object.__setattr__(self, "kinds", MappingProxyType(dict(self.kinds)))

    @property
    def label(self) -> str:
        """``stage`` or ``stage[family]``."""
        return job_label(self.stage, self.family)

    def own_inputs(self) -> dict[str, str]:
        """The inputs without the upstream keys: what the content key starts from."""
        return {k: v for k, v in self.inputs.items() if not k.startswith(UPSTREAM)}

    def content_key(self, inbound: Mapping[str, str]) -> str:
        """The content key: own inputs, and the digest of every inbound archive."""
        return digest_of(content_inputs(self.own_inputs(), inbound), "content")


def content_inputs(own: Mapping[str, str], inbound: Mapping[str, str]) -> dict[str, str]:
    """The inputs of a content key: ``own`` inputs and ``inbound:ARCHIVE`` digests."""
    return {**own, **{INBOUND + name: digest for name, digest in sorted(inbound.items())}}


def _fields(obj: object, *drop: str) -> dict[str, Any]:
    data = dataclasses.asdict(obj)  # type: ignore[call-overload]
    for name in ("description", *drop):
        data.pop(name, None)
    return dict(data)


def stage_part(topology: Topology, stage: str, conditions: Conditions) -> dict[str, Any]:
    """The stage's own part of the topology under ``conditions``, as plain data."""
    analysis = queries.analyze(topology, conditions)
    build = topology.build_stages[stage]
    artifacts = topology.artifacts
    return {
        "stage": _fields(build),
        "groups": {
            g: _fields(topology.artifact_groups[g])
            for g in build.artifact_groups
            if g in topology.artifact_groups
        },
        "produced": {a: _fields(artifacts[a]) for a in analysis.produced[stage]},
        "inbound": {
            a: {
                "type": artifacts[a].type,
                "feature_name": artifacts[a].feature_name,
                "artifact_group": artifacts[a].artifact_group,
            }
            for a in analysis.inbound[stage]
        },
        "source_sets": {
            n: _fields(topology.source_sets[n])
            for n in queries.stage_source_sets(topology, stage, conditions.platform)
        },
    }


def _relevant_flags(topology: Topology, stage: str, platform: str | None) -> set[str]:
    """Flags that switch an artifact of the stage, or one it depends on, on ``platform``."""
    groups = set(topology.build_stages[stage].artifact_groups)
    todo = [a.name for a in topology.artifacts.values() if a.artifact_group in groups]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in topology.artifacts:
            continue
        seen.add(name)
        todo.extend(topology.artifacts[name].artifact_deps)
    found: set[str] = set()
    for name in seen:
        artifact: Artifact = topology.artifacts[name]
        for where, flag in artifact.disable_platforms_if_flags_not_set:
            if platform is None or where == platform:
                found.add(flag)
    return found


@dataclass(frozen=True)
class KeyContext:
    """Everything keys are computed from (one platform, one commit)."""

    topology: Topology
    conditions: Conditions
    inputs: InputsConfig
    tree: SourceTree
    submodules: tuple[GitSubmodule, ...] = ()
    runs_on: Mapping[str, str] = field(default_factory=dict)  # stage -> runner label
    environ: Mapping[str, str] = field(default_factory=dict)
    topology_file: str = "BUILD_TOPOLOGY.toml"  # repository-relative
    settings_file: str = ""  # repository-relative, "" when none


class KeyComputer:
    """Computes the keys of a pipeline's jobs over one tree: regions once, keys memoised."""

    def __init__(self, ctx: KeyContext) -> None:
        self.ctx = ctx
        model = [ctx.topology_file] + ([ctx.settings_file] if ctx.settings_file else [])
        self.classifier = Classifier(
            ctx.topology,
            ctx.inputs,
            ctx.submodules,
            ctx.tree,
            platform=ctx.conditions.platform,
            model_files=model,
        )
        self.regions: dict[str, RegionDigest] = regions(ctx.tree, self.classifier)
        self.findings: list[Finding] = []
        self._keys: dict[tuple[str, str], StageKey] = {}
        self._parts: dict[str, str] = {}
        self._paths = {s.name: norm_path(s.path) for s in ctx.submodules}

    # -- inputs ---------------------------------------------------------------------------
    def _missing(self, file: str, line: int, message: str) -> None:
        finding = Finding(file, line, "cache-input", message)
        if finding not in self.findings:
            self.findings.append(finding)

    def _path_input(
        self, kind: str, path: str, where: tuple[str, int], what: str
    ) -> tuple[str, str, str] | None:
        tree = self.ctx.tree
        root = norm_path(path)
        if not tree.exists(root):
            self._missing(
                *where,
                f"key input {what} '{path}' is not in the tree of {tree.commit[:12] or 'HEAD'}",
            )
            return None
        name = input_name(kind, root, tree.is_folder(root))
        found = self.regions.get(name)
        return (name, found.digest, found.how) if found else (name, NONE, "none")

    def _sources(self, stage: str, out: dict[str, str], kinds: dict[str, str]) -> None:
        topo = self.ctx.topology
        tree = self.ctx.tree
        for name in queries.stage_source_sets(topo, stage, self.ctx.conditions.platform):
            source_set = topo.source_sets[name]
            for prefix in source_set.path_prefixes:
                where = (topo.path, topo.line("source_sets", name, "path_prefixes"))
                got = self._path_input(SOURCE, prefix, where, f"path prefix (source set {name})")
                if got is not None:
                    out[got[0]], kinds[got[0]] = got[1], got[2]
            for sub in source_set.submodules:
                where = (topo.path, topo.line("source_sets", name, "submodules"))
                path = self._paths.get(sub)
                entry = tree.files.get(path) if path is not None else None
                if path is None:
                    self._missing(
                        *where,
                        f"key input submodule '{sub}' (source set {name}) is not declared "
                        "in .gitmodules",
                    )
                elif entry is None or not entry.is_submodule:
                    self._missing(
                        *where,
                        f"key input submodule '{sub}' (source set {name}): no submodule at "
                        f"'{path}' in the tree of {tree.commit[:12] or 'HEAD'}",
                    )
                else:
                    out[f"submodule:{sub}"], kinds[f"submodule:{sub}"] = entry.oid, "commit"
            for ext in source_set.external_git_sources:
                name_ = f"external:{ext.name}"
                region = self.regions.get(name_)
                value = ext.commit + (f"+{region.digest}" if region else "")
                out[name_], kinds[name_] = value, "commit"

    def _part(self, stage: str) -> str:
        if stage not in self._parts:
            part = stage_part(self.ctx.topology, stage, self.ctx.conditions)
            self._parts[stage] = hashlib.sha256(_canonical(part)).hexdigest()
        return self._parts[stage]

    def own_inputs(self, stage: str, family: str) -> tuple[dict[str, str], dict[str, str]]:
        """The inputs of ``stage`` for ``family`` without upstream keys, and their kinds."""
        ctx = self.ctx
        cond = ctx.conditions
        out: dict[str, str] = {"scheme": KEY_SCHEME, "stage": stage}
        kinds: dict[str, str] = {}
        if family:
            out["family"] = family
        if cond.platform:
            out["platform"] = cond.platform
        if cond.processor:
            out["processor"] = cond.processor
        relevant = _relevant_flags(ctx.topology, stage, cond.platform)
        if relevant:
            out["flags"] = ",".join(sorted(relevant & cond.flags)) or "-"
        out["topology"], kinds["topology"] = self._part(stage), "sha256"
        out["toolchain:runs-on"] = ctx.runs_on.get(stage, "")
        declared = ctx.inputs.stages.get(stage)
        names = (*ctx.inputs.environment, *(declared.environment if declared else ()))
        for var in names:
            out[f"env:{var}"] = ctx.environ.get(var) or UNSET
        for path in ctx.inputs.every_stage:
            if not ctx.inputs.declared and not ctx.tree.exists(norm_path(path)):
                continue  # a default, not a declaration: absent is fine
            got = self._path_input(EVERY_STAGE, path, ctx.inputs.where(path), "every-stage path")
            if got is not None:
                out[got[0]], kinds[got[0]] = got[1], got[2]
        for path in declared.paths if declared else ():
            got = self._path_input(
                STAGE_INPUT, path, ctx.inputs.where(path), f"path of stage {stage}"
            )
            if got is not None:
                out[got[0]], kinds[got[0]] = got[1], got[2]
        for name, region in self.regions.items():
            if region.region.kind == UNCLAIMED:
                out[name], kinds[name] = region.digest, region.how
        self._sources(stage, out, kinds)
        return out, kinds

    # -- keys -----------------------------------------------------------------------------
    def key(self, stage: str, family: str = "") -> StageKey:
        """The static key of ``stage`` (for ``family`` when per-arch; "" for a per-arch
        stage's generic half, which generic consumers depend on)."""
        queries.require_stage(self.ctx.topology, stage)
        memo = (stage, family)
        if memo in self._keys:
            return self._keys[memo]
        inputs, kinds = self.own_inputs(stage, family)
        topo = self.ctx.topology
        for up in queries.stage_graph(topo, self.ctx.conditions).get(stage, ()):
            up_family = family if topo.build_stages[up].per_arch else ""
            inputs[UPSTREAM + job_label(up, up_family)] = self.key(up, up_family).key
        found = StageKey(stage, family, digest_of(inputs, "static"), inputs, kinds)
        self._keys[memo] = found
        return found

    def raise_findings(self) -> None:
        """Raise FindingsError naming every key input that could not be read."""
        if self.findings:
            raise FindingsError(self.findings)


def compute_keys(
    ctx: KeyContext, families: Sequence[str], stages: Sequence[str] = ()
) -> dict[queries.Job, StageKey]:
    """The static key of every job of a pipeline (per-arch stages once per family), in
    build order; ``stages`` restricts them. Raises FindingsError naming every key input that
    cannot be read (a declared path or submodule that is not in the tree)."""
    computer = KeyComputer(ctx)
    out: dict[queries.Job, StageKey] = {}
    for job in queries.expand_jobs(ctx.topology, families, ctx.conditions):
        if stages and job.stage not in stages:
            continue
        out[job] = computer.key(job.stage, job.family)
    computer.raise_findings()
    return out
