"""Pure parts of per-stage sources: .gitmodules, the plan, the sparse cone, the check."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_lib.errors import FindingsError, InputError
from action_lib.sources import check_placements, parse_gitmodules, placement_findings, plan_sources
from action_lib.sources.gitmodules import GitSubmodule, render_gitmodules
from action_lib.sources.layout import descriptor_artifact, descriptor_locations, owned_paths
from action_lib.sources.plan import sparse_cone
from action_lib.topology import Topology, load_topology, parse_topology
from tests.topologies import MINIMAL

GITMODULES = """\
# a comment
[submodule "core-src"]
\tpath = core
\turl = https://example.invalid/core.git ; trailing comment
[submodule "math-src"]
\tpath = "math/vendored"
\turl = https://example.invalid/math.git
\tbranch = main
[core]
\tbare = false
"""


def minimal() -> Topology:
    topology, findings = parse_topology(MINIMAL, "T.toml")
    assert not findings
    return topology


def test_parse_gitmodules() -> None:
    subs = parse_gitmodules(GITMODULES)
    assert subs == (
        GitSubmodule("core-src", "core", "https://example.invalid/core.git", "", 2),
        GitSubmodule("math-src", "math/vendored", "https://example.invalid/math.git", "main", 5),
    )
    assert parse_gitmodules(render_gitmodules(subs)) == tuple(
        GitSubmodule(s.name, s.path, s.url, s.branch, line)
        for s, line in zip(subs, (1, 4), strict=True)
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[submodule "a"]\n\turl = x\n', "submodule 'a' has no path"),
        ('[submodule "a"]\n\tpath = p\n[submodule "b"]\n\tpath = p\n', "share the path 'p'"),
        ('[submodule "a"]\n\tpath = p\n\t= nothing\n', "cannot parse line"),
    ],
    ids=["no-path", "shared-path", "syntax"],
)
def test_gitmodules_findings(text: str, fragment: str) -> None:
    with pytest.raises(FindingsError) as caught:
        parse_gitmodules(text, "gm")
    assert fragment in str(caught.value)
    assert caught.value.findings[0].line > 0


def test_plan_of_minimal_topology() -> None:
    subs = parse_gitmodules(GITMODULES)
    plan = plan_sources(minimal(), "second", submodules=subs)
    assert plan.source_sets == ("math",)
    assert [(s.name, s.path) for s in plan.submodules] == [("math-src", "math/vendored")]
    assert plan.path_prefixes == ("math",)
    assert plan.sparse
    extra = plan_sources(minimal(), "second", extra_source_sets=["core"], submodules=subs)
    assert extra.source_sets == ("core", "math")


@pytest.mark.parametrize(
    ("stage", "extra", "fragment"),
    [
        ("secnd", (), "did you mean 'second'"),
        ("first", ("cor",), "unknown source set 'cor': did you mean 'core'"),
        (None, (), "name a stage or at least one source set"),
    ],
    ids=["unknown-stage", "unknown-source-set", "nothing"],
)
def test_plan_input_errors(stage: str | None, extra: tuple[str, ...], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        plan_sources(
            minimal(), stage, extra_source_sets=extra, submodules=parse_gitmodules(GITMODULES)
        )


def test_plan_names_undeclared_submodule() -> None:
    subs = (GitSubmodule("core-sources", "core"),)
    with pytest.raises(
        InputError,
        match=r"'core-src', which \.gitmodules does not declare: did you mean 'core-sources'",
    ):
        plan_sources(minimal(), "first", submodules=subs)


def test_sparse_cone_keeps_common_paths_and_own_sets() -> None:
    topology = minimal()
    subs = parse_gitmodules(GITMODULES)
    owned = owned_paths(topology, subs)
    assert [o.path for o in owned] == ["core", "math", "math/vendored"]
    tree = {"": ["cmake", "core", "docs", "math"], "math": ["vendored", "extra"]}
    first = plan_sources(topology, "first", submodules=subs)
    assert sparse_cone(first, owned, tree) == ("cmake", "core", "docs")
    second = plan_sources(topology, "second", submodules=subs)
    assert sparse_cone(second, owned, tree) == ("cmake", "docs", "math")


@pytest.mark.therock
def test_therock_plans(therock_dir: Path) -> None:
    topology = load_topology(therock_dir / "BUILD_TOPOLOGY.toml")
    subs = parse_gitmodules((therock_dir / "gitmodules").read_text())
    plan = plan_sources(topology, "compiler-runtime", platform="linux", submodules=subs)
    paths = {s.name: s.path for s in plan.submodules}
    assert paths["llvm-project"] == "compiler/amd-llvm"
    assert "rocm-libraries" not in paths
    assert not plan.sparse  # TheRock's source sets list submodules only
    media_linux = plan_sources(topology, "media-libs", platform="linux", submodules=subs)
    media_windows = plan_sources(topology, "media-libs", platform="windows", submodules=subs)
    assert "amd-mesa" in {s.name for s in media_linux.submodules}
    assert "amd-mesa" not in {s.name for s in media_windows.submodules}
    hrx = plan_sources(topology, None, extra_source_sets=["optional-hrx"], submodules=subs)
    assert [e.source.path for e in hrx.external] == ["optional-sources/hrx"]


@pytest.mark.therock
@pytest.mark.parametrize(
    ("path", "artifact"),
    [
        ("math-libs/BLAS/artifact-blas.toml", "blas"),
        ("third-party/sysdeps/linux/artifact-expat.toml", "sysdeps-expat"),
        ("third-party/sysdeps/linux/artifact.toml", "sysdeps"),
        ("third-party/host-blas/artifact-host-OpenBLAS.toml", "host-blas"),
        ("core/artifact-core-kfdtest.toml", "kfdtest"),
        ("third-party/fftw3/artifact_fftw3.toml", "fftw3"),
        ("math-libs/artifact-nothing.toml", None),
    ],
    ids=["named", "suffix", "folder", "folder-fallback", "folder-prefix", "underscore", "unknown"],
)
def test_descriptor_artifact(therock_topology_path: Path, path: str, artifact: str | None) -> None:
    assert descriptor_artifact(load_topology(therock_topology_path), path) == artifact


CHECKED = """\
[metadata]
version = "2.0"
description = "check"

[source_sets.one]
path_prefixes = ["src/one"]

[source_sets.two]
path_prefixes = ["src/two"]

[build_stages.first]
artifact_groups = ["g1"]

[build_stages.second]
artifact_groups = ["g2"]

[artifact_groups.g1]
type = "generic"
source_sets = ["one"]

[artifact_groups.g2]
type = "generic"
source_sets = ["two"]

[artifacts.a]
artifact_group = "g1"
type = "target-neutral"

[artifacts.b]
artifact_group = "g2"
type = "target-neutral"
"""


def test_check_placements() -> None:
    topology, findings = parse_topology(CHECKED, "C.toml")
    assert not findings
    files = ["src/one/a/artifact-a.toml", "src/one/b/artifact-b.toml", "extras/artifact-a.toml"]
    locations, unknown = descriptor_locations(topology, [*files, "x/artifact-zzz.toml"])
    assert unknown == ("x/artifact-zzz.toml",)
    placements = check_placements(topology, locations)
    verdicts = {(p.stage, p.folder): p.verdict for p in placements}
    assert verdicts == {
        ("first", "extras"): "common",
        ("first", "src/one/a"): "inside",
        ("second", "src/one/b"): "outside",
    }
    [finding] = placement_findings(topology, placements)
    assert "stage 'second' builds 'b' from src/one/b" in finding.message
    assert "add 'one' to the source_sets of artifact group 'g2'" in finding.hint
    assert finding.line == CHECKED.splitlines().index('source_sets = ["two"]') + 1
