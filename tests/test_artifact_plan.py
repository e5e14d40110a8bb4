"""Plans: what a stage pushes and fetches; environment defaults; progress lines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from action_lib.artifacts.plan import MissingArtifactsError, Wanted, fetch_plan, push_plan, select
from action_lib.edges.progress import Progress, human
from action_lib.errors import InputError
from action_lib.topology import Conditions, Topology, load_topology

LINUX = Conditions("linux")


@pytest.fixture(scope="module")
def own(repo_root: Path) -> Topology:
    return load_topology(repo_root / "BUILD_TOPOLOGY.toml")


def test_push_plan_generic_and_family_halves(own: Topology) -> None:
    plan = push_plan(own, "math-libs", LINUX, ["gfx94X-dcgpu"])
    assert ("blas", "generic") in {(w.artifact, w.target) for w in plan}
    assert ("blas", "gfx94X-dcgpu") in {(w.artifact, w.target) for w in plan}
    assert ("math-support", "gfx94X-dcgpu") not in {(w.artifact, w.target) for w in plan}
    assert {w.stage for w in plan} == {"math-libs"}
    assert list(plan) == sorted(plan)


def test_per_arch_needs_one_family(own: Topology) -> None:
    with pytest.raises(InputError, match="per-arch: give --amdgpu-family"):
        push_plan(own, "math-libs", LINUX)
    with pytest.raises(InputError, match="one GPU family"):
        push_plan(own, "math-libs", LINUX, ["gfx94X-dcgpu", "gfx110X-all"])
    with pytest.raises(InputError, match="did you mean 'gfx94X-dcgpu'"):
        push_plan(own, "math-libs", LINUX, ["gfx94X-dcgpo"])


def test_fetch_plan_is_the_exact_inbound_set(own: Topology) -> None:
    plan = fetch_plan(own, "tools", LINUX)
    assert {w.artifact for w in plan} == {
        "base",
        "ccl",
        "core-hip",
        "core-runtime",
        "fmtlite",
        "kcc",
        "sysdeps",
    }
    assert all(w.target == "generic" for w in plan)
    windows = fetch_plan(own, "tools", Conditions("windows"))
    assert "ccl" not in {w.artifact for w in windows}  # disabled on windows
    excluded = fetch_plan(own, "tools", LINUX, (), ["ccl"])
    assert "ccl" not in {w.artifact for w in excluded}
    with pytest.raises(InputError, match="did you mean 'ccl'"):
        fetch_plan(own, "tools", LINUX, (), ["cll"])
    with pytest.raises(InputError, match="unknown stage"):
        fetch_plan(own, "tool", LINUX)


def test_select_present_missing_and_sidecarless() -> None:
    wanted = [
        Wanted("a", "generic", "s1"),
        Wanted("b", "generic", "s1"),
        Wanted("c", "generic", "s2"),
    ]
    listing = {
        "a_lib_generic.tar.zst": 10,
        "a_lib_generic.tar.zst.sha256sum": 65,
        "a_dev_generic.tar.xz": 5,
        "a_dev_generic.tar.xz.sha256sum": 65,
        "a_doc_generic.tar.zst": 7,  # no sidecar: absent, and reported
        "b_lib_generic.tar.zst": 3,  # no sidecar: b is missing
        "x_lib_generic.tar.zst": 1,
        "x_lib_generic.tar.zst.sha256sum": 65,
    }
    chosen, missing = select(wanted, listing)
    assert [r.filename for r in chosen] == ["a_dev_generic.tar.xz", "a_lib_generic.tar.zst"]
    assert missing == [
        Wanted("a", "generic", "s1", "doc"),
        Wanted("b", "generic", "s1"),
        Wanted("c", "generic", "s2"),
    ]
    chosen, _ = select(wanted, listing, ["dev"])
    assert [r.filename for r in chosen] == ["a_lib_generic.tar.zst"]
    lines = MissingArtifactsError("store", missing).lines()
    assert lines[0] == "3 artifact(s) missing from store:"
    assert "a_doc_generic (produced by stage 's1'): its archive has no sidecar" in lines[1]
    assert lines[3] == "  c_*_generic (produced by stage 's2')"


def test_external_repo_runs_live_under_owner_repo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from action_lib.cli.main import main

    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    args = ["artifacts", "ls", "--store", str(tmp_path), "--run-id", "5", "--platform", "windows"]
    assert main([*args, "--external-repo", "ROCm/rocm-libraries"]) == 0
    assert str(tmp_path / "ROCm-rocm-libraries" / "5-windows") in capsys.readouterr().out
    assert main([*args, "--external-repo", "nope"]) == 2


def test_progress_bar_and_plain_lines() -> None:
    live = io.StringIO()
    bar = Progress("fetch x", 2_000_000, live, live=True)
    bar.drawn = -1.0
    bar(1_000_000)
    assert live.getvalue().startswith("\rfetch x: 1.0 MB/2.0 MB")
    assert "ETA" in live.getvalue()
    plain = io.StringIO()
    quiet = Progress("push", 10, plain, live=False)
    quiet(5)
    quiet.note("pushed 1 archive(s)")
    assert plain.getvalue() == "pushed 1 archive(s)\n"
    assert human(1500) == "1.5 KB" and human(12) == "12 B"
