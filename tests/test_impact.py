"""Impact on this repository's topology: every path meets a rule, stages close downstream."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from action_lib.errors import FindingsError
from action_lib.impact import (
    Change,
    ImpactRules,
    compute_impact,
    everything,
    matches,
    parse_rules,
    report_json,
    report_markdown,
    report_text,
)
from action_lib.impact.analyze import affected_jobs
from action_lib.topology import Conditions, Topology, load_topology, queries

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology(REPO / "BUILD_TOPOLOGY.toml")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("cmake/", "cmake/x.cmake", True),
        ("cmake/", "src/cmake/x.cmake", False),
        ("cmake/", "cmakefoo", False),
        ("*.md", "src/math-libs/README.md", True),
        ("docs/*.png", "docs/a.png", True),
        ("docs/*.png", "x/docs/a.png", False),
        ("BUILD_TOPOLOGY.toml", "BUILD_TOPOLOGY.toml", True),
        ("BUILD_TOPOLOGY.toml", "x/BUILD_TOPOLOGY.toml", False),
    ],
    ids=[
        "dir",
        "dir-anchored",
        "dir-prefix-only",
        "glob-name",
        "glob-path",
        "glob-path-anchored",
        "exact",
        "exact-anchored",
    ],
)
def test_patterns(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


@pytest.mark.parametrize(
    ("path", "rule", "detail"),
    [
        ("cmake/README.md", "affects-all", "cmake/"),
        ("build_tools/packaging/deb.py", "affects-none", "build_tools/packaging/"),
        ("build_tools/github_actions/tests/t.py", "affects-none", "build_tools/*/tests/"),
        ("build_tools/fileset_tool.py", "affects-all", "build_tools/"),
    ],
    ids=["tie-breaks-to-all", "deeper-none", "glob-folder", "shallow-all"],
)
def test_most_specific_pattern_wins(topology: Topology, path: str, rule: str, detail: str) -> None:
    rules = ImpactRules().extended(
        affects_all=["build_tools/"],
        affects_none=["build_tools/packaging/", "build_tools/*/tests/"],
    )
    [impact] = compute_impact(topology, [Change(path)], rules=rules).paths
    assert (impact.rule, impact.detail) == (rule, detail)


# (id, changed paths, affected stages in build order, rules met)
CASES = [
    ("math-source", ["src/math-libs/blas/blas.c"], ["math-libs", "ml-libs"], ["source-set"]),
    ("comm-source", ["src/comm-libs/ccl.c"], ["comm-libs", "tools"], ["source-set"]),
    ("leaf", ["src/tools/smi/smi.c"], ["tools"], ["source-set"]),
    ("docs-only", ["docs/sources.md", "README.md"], [], ["affects-none", "affects-none"]),
    (
        "doc-next-to-code",
        ["src/math-libs/README.md", "src/tools/kinfo/k.c"],
        ["tools"],
        ["affects-none", "source-set"],
    ),
]


@pytest.mark.parametrize(
    ("paths", "stages", "rules"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_mapped_changes(
    topology: Topology, paths: list[str], stages: list[str], rules: list[str]
) -> None:
    report = compute_impact(topology, [Change(p) for p in paths])
    assert list(report.affected) == stages
    assert [p.rule for p in report.paths] == rules
    assert not report.everything and not report.fallback


@pytest.mark.parametrize(
    "path",
    [
        "BUILD_TOPOLOGY.toml",
        "cmake/subprojects.cmake",
        "action_lib/proc.py",
        "actions/x/action.yml",
        ".github/workflows/linux.yml",
        "CMakeLists.txt",
    ],
    ids=["topology", "cmake", "action_lib", "actions", "github", "root-cmake"],
)
def test_affects_all(topology: Topology, path: str) -> None:
    report = compute_impact(topology, [Change(path), Change("src/tools/x.c")])
    assert report.everything and report.fallback == ""
    assert report.affected == report.stages
    assert report.paths[0].rule == "affects-all"
    assert all(path in r.paths for r in report.reasons)


def test_unmapped_path_is_never_dropped(topology: Topology) -> None:
    # TheRock ignores an unmapped path as soon as another path matched: here it counts.
    report = compute_impact(topology, [Change("src/tools/x.c"), Change("scripts/new-tool.sh")])
    assert report.everything
    assert "1 changed path(s) matched no rule: scripts/new-tool.sh" in report.fallback
    rules = {p.path: p.rule for p in report.paths}
    assert rules == {"src/tools/x.c": "source-set", "scripts/new-tool.sh": "unmapped"}
    tools = report.reason("tools")
    assert tools is not None and tools.paths == ("scripts/new-tool.sh", "src/tools/x.c")


def test_downstream_reasons(topology: Topology) -> None:
    report = compute_impact(topology, [Change("src/runtime/api.c")])
    assert report.affected == ("compiler-runtime", "comm-libs", "math-libs", "ml-libs", "tools")
    ml = report.reason("ml-libs")
    assert ml is not None and ml.paths == () and ml.upstream == ("compiler-runtime", "math-libs")
    assert report.reason("foundation") is None
    text = report_text(report)
    assert "ml-libs: downstream of compiler-runtime, math-libs" in text
    assert "compiler-runtime: src/runtime/api.c" in text
    markdown = report_markdown(report)
    assert "| ml-libs | downstream of compiler-runtime, math-libs |" in markdown
    assert "| <code>src/runtime/api.c</code> | source-set |" in markdown


def test_platform_filters_stages(topology: Topology) -> None:
    windows = Conditions(platform="windows")
    report = compute_impact(topology, [Change("src/comm-libs/ccl.c")], conditions=windows)
    assert report.affected == ()
    assert report.paths[0].rule == "source-set"  # met a rule; its source set is off on windows
    assert "comm-libs" not in report.stages


def test_jobs_per_family(topology: Topology) -> None:
    report = compute_impact(topology, [Change("src/math-libs/fft/fft.c")])
    jobs = affected_jobs(topology, report, ["fam-a", "fam-b"])
    assert [(j.stage, j.family) for j in jobs] == [
        ("math-libs", "fam-a"),
        ("math-libs", "fam-b"),
        ("ml-libs", "fam-a"),
        ("ml-libs", "fam-b"),
    ]


def test_everything_report(topology: Topology) -> None:
    report = everything(topology, "the API failed", origin="pull request #3")
    data = report_json(report)
    assert data["affected_stages"] == data["stages"] == queries.build_order(topology)
    assert data["fallback"] == "the API failed" and data["everything"] is True
    assert "every stage, because the API failed" in report_text(report)


def test_rules_file(topology: Topology) -> None:
    text = """
[impact]
affects_all = ["BUILD_TOPOLOGY.toml"]
affects_none = ["scripts/"]
[impact.folders]
"extras/math" = ["math-libs"]
"""
    rules = parse_rules(text, "rules.toml", topology).extended(affects_all=["cmake/"])
    changes = [Change("scripts/a.sh"), Change("extras/math/x.c"), Change("docs/a.md")]
    report = compute_impact(topology, changes, rules=rules)
    assert {p.path: p.rule for p in report.paths} == {
        "scripts/a.sh": "affects-none",
        "extras/math/x.c": "artifact-folder",
        "docs/a.md": "unmapped",  # this file replaced the default affects_none
    }
    assert compute_impact(topology, [Change("cmake/x")], rules=rules).everything


@pytest.mark.parametrize(
    ("text", "fragment", "where"),
    [
        ("[impact]\naffects_al = []\n", "did you mean 'affects_all'", "rules.toml:2:"),
        (
            '# rules\n[impact.folders]\n"x" = ["math-lib"]\n',
            "did you mean 'math-libs'",
            "rules.toml:3:",
        ),
        ("[impact]\n\naffects_all = 3\n", "must be a list of strings", "rules.toml:3:"),
        ("impact = [\n", "syntax", "rules.toml:1:"),
        ("[impact]\nfolders = 3\n", "[impact.folders] must be a table", "rules.toml:2:"),
        (
            '[impact.folders]\n"a" = ["math-libs"]\n"x" = "math-libs"\n',
            "folder 'x' must map to a list",
            "rules.toml:3:",
        ),
        ("a = 1\nimpact = 3\n", "[impact] must be a table", "rules.toml:2:"),
        ("[other]\n", "no [impact] table", "rules.toml:"),
    ],
    ids=[
        "unknown-key",
        "unknown-group",
        "bad-type",
        "bad-toml",
        "folders-not-a-table",
        "folder-not-a-list",
        "impact-not-a-table",
        "no-impact-table",
    ],
)
def test_rules_file_findings(topology: Topology, text: str, fragment: str, where: str) -> None:
    with pytest.raises(FindingsError) as caught:
        parse_rules(text, "rules.toml", topology)
    lines = caught.value.lines()
    assert any(fragment in line and line.startswith(where + " ") for line in lines), lines


PATHS = st.lists(
    st.sampled_from(
        [
            "src/math-libs/a.c",
            "src/ml-libs/b.c",
            "src/base/c.h",
            "src/comm-libs/d.c",
            "src/tools/e.c",
            "src/compiler/f.c",
            "src/runtime/g.c",
            "src/third-party/h.c",
            "docs/i.md",
            "j.md",
            "cmake/k.cmake",
            "elsewhere/l.txt",
            "src/m.txt",
        ]
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(paths=PATHS)
def test_properties(paths: list[str]) -> None:
    topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    report = compute_impact(topology, [Change(p) for p in paths])
    # every changed path is reported once, with a rule
    assert sorted({p.path for p in report.paths}) == sorted(set(paths))
    assert all(p.rule for p in report.paths)
    # the affected set is closed downstream
    graph = queries.stage_graph(topology)
    affected = set(report.affected)
    for stage, upstream in graph.items():
        if affected & set(upstream):
            assert stage in affected
    # a stage is affected only with a reason
    assert {r.stage for r in report.reasons} == affected
    if any(p.rule == "unmapped" for p in report.paths):
        assert report.everything
