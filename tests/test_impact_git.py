"""``rockshard impact`` over real git history: --base/--head, and event mode under act."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from action_lib.cli.main import main
from action_lib.jobs.event import affected_stages_for_event
from action_lib.topology import load_topology
from tests.fixtures.gitrepos import (
    add_submodule,
    commit_all,
    git,
    make_repo,
    use_git_env,
    write_tree,
)

pytestmark = pytest.mark.integration

TOPOLOGY = """\
[metadata]
version = "2.0"
description = "impact over git"

[source_sets.compilers]
submodules = ["llvm-project"]

[source_sets.libs]
path_prefixes = ["libs"]

[build_stages.compiler]
artifact_groups = ["comp"]

[build_stages.libraries]
artifact_groups = ["lib"]

[artifact_groups.comp]
type = "generic"
source_sets = ["compilers"]

[artifact_groups.lib]
type = "generic"
artifact_group_deps = ["comp"]
source_sets = ["libs"]

[artifacts.cc]
artifact_group = "comp"
type = "target-neutral"

[artifacts.lib]
artifact_group = "lib"
type = "target-neutral"
artifact_deps = ["cc"]
"""


@dataclass
class History:
    repo: Path
    base: str
    libs_change: str  # a commit changing libs/ and docs/
    bump: str  # a commit moving the compiler submodule


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> History:
    use_git_env(monkeypatch)
    llvm = tmp_path / "llvm"
    make_repo(llvm, {"llvm.c": "v1\n"})
    repo = tmp_path / "super"
    make_repo(repo, {"BUILD_TOPOLOGY.toml": TOPOLOGY, "libs/a.c": "a\n", "docs/x.md": "x\n"})
    add_submodule(repo, llvm, "llvm-project", "compiler/amd-llvm")
    base = commit_all(repo, "add llvm")
    write_tree(repo, {"libs/a.c": "a2\n", "docs/x.md": "x2\n"})
    libs_change = commit_all(repo, "libs")
    write_tree(llvm, {"llvm.c": "v2\n"})
    commit_all(llvm, "v2")
    git(repo / "compiler/amd-llvm", "pull", "-q", "origin", "main")
    bump = commit_all(repo, "bump llvm")
    return History(repo, base, libs_change, bump)


def impact_json(repo: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["impact", "--repo", str(repo), "--format", "json", *args]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_base_head(history: History, capsys: pytest.CaptureFixture[str]) -> None:
    data = impact_json(
        history.repo, "--base", history.base, "--head", history.libs_change, capsys=capsys
    )
    assert data["affected_stages"] == ["libraries"]
    assert {p["path"]: p["rule"] for p in data["paths"]} == {
        "docs/x.md": "affects-none",
        "libs/a.c": "source-set",
    }


def test_submodule_move_maps_through_gitmodules(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    data = impact_json(
        history.repo, "--base", history.libs_change, "--head", history.bump, capsys=capsys
    )
    [path] = data["paths"]
    assert path["path"] == "compiler/amd-llvm" and path["submodule"] is True
    assert path["rule"] == "submodule" and path["detail"] == "llvm-project"
    assert len(path["old"]) == 40 and path["old"] != path["new"]
    assert data["affected_stages"] == ["compiler", "libraries"]
    assert data["reasons"]["libraries"] == {"paths": [], "upstream": ["compiler"]}


def _event(tmp_path: Path, name: str, payload: dict[str, Any]) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload), encoding="utf-8")
    return {
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "rockshard/demo",
        "GITHUB_TOKEN": "not-used-under-act",
        "ACT": "true",
    }


def test_event_under_act_uses_git(history: History, tmp_path: Path) -> None:
    topology = load_topology(history.repo / "BUILD_TOPOLOGY.toml")
    pull = {"number": 5, "base": {"sha": history.base}, "head": {"sha": history.bump}}
    report = affected_stages_for_event(
        topology, env=_event(tmp_path, "pull_request", {"pull_request": pull}), repo=history.repo
    )
    assert report.origin.startswith("git diff")
    assert report.affected == ("compiler", "libraries")
    assert {p.path for p in report.paths} == {"compiler/amd-llvm", "docs/x.md", "libs/a.c"}


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("push", {"before": "0" * 40, "after": "1" * 40}, "creates a branch"),
        ("workflow_dispatch", {}, "a workflow_dispatch event builds every stage"),
        ("push", {"before": "1" * 40, "after": "2" * 40}, "git could not compare the commits"),
    ],
    ids=["new-branch", "dispatch", "unknown-commits"],
)
def test_event_fallbacks(
    history: History, tmp_path: Path, name: str, payload: dict[str, Any], reason: str
) -> None:
    topology = load_topology(history.repo / "BUILD_TOPOLOGY.toml")
    report = affected_stages_for_event(
        topology, env=_event(tmp_path, name, payload), repo=history.repo
    )
    assert report.everything and reason in report.fallback
    assert report.affected == ("compiler", "libraries")


def test_cli_event_mode_writes_outputs_and_summary(
    history: History,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = _event(tmp_path, "push", {"before": history.base, "after": history.libs_change})
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    output.touch()
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["impact", "--event", "--repo", str(history.repo), "--gha-output"]) == 0
    assert "1 of 2 stages affected" in capsys.readouterr().out
    outputs = output.read_text()
    assert '["libraries"]' in outputs and "everything" in outputs
    assert "| libraries | <code>libs/a.c</code> |" in summary.read_text()


def test_cli_needs_base_and_head(history: History, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["impact", "--repo", str(history.repo), "--base", history.base]) == 2
    assert "give --base and --head" in capsys.readouterr().err


def test_removed_submodule_maps_through_the_base_gitmodules(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    git(history.repo, "rm", "-q", "compiler/amd-llvm")
    removed = commit_all(history.repo, "drop llvm")
    data = impact_json(history.repo, "--base", history.bump, "--head", removed, capsys=capsys)
    by_path = {p["path"]: p for p in data["paths"]}
    assert by_path["compiler/amd-llvm"]["rule"] == "submodule"
    assert by_path["compiler/amd-llvm"]["detail"] == "llvm-project"
    assert by_path[".gitmodules"]["rule"] == "affects-all"
