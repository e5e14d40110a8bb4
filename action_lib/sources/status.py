"""Which sources are present in a checkout, missing, or at another commit than recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from action_lib.sources.git import GitRunner, ls_tree
from action_lib.sources.gitmodules import GitSubmodule
from action_lib.sources.layout import norm_path
from action_lib.sources.plan import SubmoduleCheckout, plan_sources
from action_lib.topology.model import Topology

State = Literal["present", "missing", "different-commit"]
PRESENT: State = "present"
MISSING: State = "missing"
DIFFERENT: State = "different-commit"


@dataclass(frozen=True)
class SourceState:
    """The state of one submodule, external source or path prefix in a checkout."""

    kind: str  # submodule | external | path
    name: str
    source_set: str  # "" for a submodule no source set lists
    path: str
    state: State
    expected: str = ""  # the commit the superproject records (or the pinned one)
    actual: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stable keys)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "source_set": self.source_set,
            "path": self.path,
            "state": self.state,
            "expected": self.expected,
            "actual": self.actual,
        }


def _checked_out_commit(runner: GitRunner, path: Path, what: str) -> str:
    if not (path / ".git").exists():
        return ""
    result = runner.run(
        ["rev-parse", "--verify", "-q", "HEAD^{commit}"],
        cwd=path,
        what=what,
        check=False,
        retry=False,
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def _state(expected: str, actual: str) -> State:
    if not actual:
        return MISSING
    if expected and not actual.startswith(expected) and not expected.startswith(actual):
        return DIFFERENT
    return PRESENT


def source_status(
    runner: GitRunner,
    repo: Path,
    topology: Topology,
    submodules: Sequence[GitSubmodule],
    *,
    stage: str | None = None,
    platform: str | None = None,
) -> list[SourceState]:
    """The state of every source of ``stage`` (every source set when None), sorted."""
    names = (
        []
        if stage
        else sorted(n for n, ss in topology.source_sets.items() if ss.enabled_on(platform))
    )
    plan = plan_sources(
        topology, stage, platform=platform, extra_source_sets=names, submodules=submodules
    )
    rows: list[SourceState] = []
    wanted = list(plan.submodules)
    if not stage:
        listed = {s.name for s in wanted}
        wanted += [
            SubmoduleCheckout(s.name, norm_path(s.path), s.url, "")
            for s in submodules
            if s.name not in listed
        ]
    recorded: dict[str, str] = {}
    if wanted:
        entries = ls_tree(runner, repo, "HEAD", [s.path for s in wanted])
        recorded = {e.path: e.object for e in entries if e.type == "commit"}
    for sub in wanted:
        expected = recorded.get(sub.path, "")
        actual = _checked_out_commit(runner, repo / sub.path, f"submodule '{sub.name}'")
        rows.append(
            SourceState(
                "submodule",
                sub.name,
                sub.source_set,
                sub.path,
                _state(expected, actual),
                expected,
                actual,
            )
        )
    for item in plan.external:
        path = norm_path(item.source.path)
        actual = _checked_out_commit(runner, repo / path, f"external source '{item.source.name}'")
        rows.append(
            SourceState(
                "external",
                item.source.name,
                item.source_set,
                path,
                _state(item.source.commit, actual),
                item.source.commit,
                actual,
            )
        )
    for name in plan.source_sets:
        for prefix in topology.source_sets[name].path_prefixes:
            path = norm_path(prefix)
            folder = repo / path
            present = folder.is_dir() and any(folder.iterdir())
            rows.append(SourceState("path", path, name, path, PRESENT if present else MISSING))
    return sorted(rows, key=lambda r: (r.kind, r.path, r.name))
