"""``rockshard sources check`` on this repository's super-build and on a broken map."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.topology import load_topology


def test_own_super_build_is_covered(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not (repo_root / "src").is_dir():
        pytest.skip("the super-build's sources (src/) are not in this checkout")
    assert main(["sources", "check", "--repo", str(repo_root), "--format", "json"]) == 0
    placements = json.loads(capsys.readouterr().out)["placements"]
    topology = load_topology(repo_root / "BUILD_TOPOLOGY.toml")
    assert {p["artifact"] for p in placements} == set(topology.artifacts)
    assert {p["verdict"] for p in placements} == {"inside"}


def test_subproject_outside_its_stage(
    repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subprojects = tmp_path / "subprojects.json"
    subprojects.write_text(json.dumps({"blas": ["src/math-libs/blas", "src/tools/blas-extras"]}))
    args = ["sources", "check", "--repo", str(repo_root), "--subprojects", str(subprojects)]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert "math-libs  blas      src/tools/blas-extras  outside  tools" in captured.out
    assert (
        "stage 'math-libs' builds 'blas' from src/tools/blas-extras, which lies in source set "
        "'tools' that the stage does not check out (add 'tools' to the source_sets of artifact "
        "group 'math-libs')" in captured.err
    )


def test_subprojects_file_names_unknown_artifact(
    repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subprojects = tmp_path / "subprojects.json"
    subprojects.write_text(json.dumps({"blsa": ["src/math-libs/blas"]}))
    args = ["sources", "check", "--repo", str(repo_root), "--subprojects", str(subprojects)]
    assert main(args) == 2
    assert "unknown artifacts: blsa" in capsys.readouterr().err
