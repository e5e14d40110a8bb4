"""Stage keys (pure): what changes a key, what does not, and that one [inputs] declaration
drives keys and impact alike.

The tree is this checkout's own files (object ids made from their paths); an edit replaces one
entry's object id, as a commit changing that file would. Keys from real git objects are tested
in tests/test_cache_cli.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from action_lib.cache.inputs_config import InputsConfig, StageInputs
from action_lib.cache.keys import KeyComputer, KeyContext, StageKey, compute_keys
from action_lib.cache.tree import Entry, SourceTree
from action_lib.errors import FindingsError
from action_lib.impact.analyze import Change, compute_impact
from action_lib.pipeline.config import parse_pipeline_config
from action_lib.sources.gitmodules import GitSubmodule
from action_lib.topology import check_topology_text, load_topology, queries
from action_lib.topology.model import Conditions, Topology

REPO = Path(__file__).resolve().parent.parent
FAMILIES = ("gfx110X-all", "gfx94X-dcgpu")
LINUX = Conditions("linux")


@pytest.fixture(scope="module")
def topology() -> Topology:
    loaded: Topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    return loaded


@pytest.fixture(scope="module")
def inputs() -> InputsConfig:
    text = (REPO / "rockshard-pipeline.toml").read_text(encoding="utf-8")
    return parse_pipeline_config(text, "rockshard-pipeline.toml").inputs


SKIP = {".git", ".venv", "build", "_demo", "__pycache__", ".mypy_cache", ".ruff_cache"}
SKIP |= {".pytest_cache", ".hypothesis"}


@pytest.fixture(scope="module")
def tree() -> SourceTree:
    """This checkout's files as a commit's tree (object ids from the paths), and a tree id for
    every folder (as ``git ls-tree -t`` gives them)."""
    files: dict[str, Entry] = {}
    for path in sorted(REPO.rglob("*")):
        rel = path.relative_to(REPO)
        if set(rel.parts) & SKIP or any(p.endswith(".egg-info") for p in rel.parts):
            continue
        if path.is_file():
            files[rel.as_posix()] = Entry(
                "100644", hashlib.sha1(rel.as_posix().encode()).hexdigest()
            )
    folders = {p.rpartition("/")[0] for p in files} - {""}
    for folder in list(folders):
        while "/" in folder:
            folder = folder.rpartition("/")[0]
            folders.add(folder)
    trees = {f: hashlib.sha1(b"tree " + f.encode()).hexdigest() for f in folders}
    return SourceTree("0" * 40, files, trees)


def keys_of(
    topology: Topology, inputs: InputsConfig, tree: SourceTree, conditions: Conditions = LINUX
) -> dict[tuple[str, str], StageKey]:
    ctx = KeyContext(
        topology,
        conditions,
        inputs,
        tree,
        runs_on={s: "ubuntu-latest" for s in topology.build_stages},
        settings_file="rockshard-pipeline.toml",
    )
    return {(j.stage, j.family): k for j, k in compute_keys(ctx, FAMILIES).items()}


def changed(
    before: dict[tuple[str, str], StageKey], after: dict[tuple[str, str], StageKey]
) -> set[str]:
    return {job[0] for job in before if before[job].key != after[job].key}


def edit(tree: SourceTree, path: str) -> SourceTree:
    old = tree.files.get(path)
    mode = old.mode if old is not None else "100644"
    return tree.overlay({path: Entry(mode, hashlib.sha1(b"edited " + path.encode()).hexdigest())})


def downstream(topology: Topology, stages: set[str]) -> set[str]:
    graph = queries.stage_graph(topology, LINUX)
    out = set(stages)
    grew = True
    while grew:
        grew = False
        for stage, ups in graph.items():
            if stage not in out and out & set(ups):
                out.add(stage)
                grew = True
    return out & set(queries.active_stages(topology, LINUX))


def test_keys_are_stable_and_distinct(
    topology: Topology, inputs: InputsConfig, tree: SourceTree
) -> None:
    first = keys_of(topology, inputs, tree)
    again = keys_of(topology, inputs, tree)
    assert {j: k.key for j, k in first.items()} == {j: k.key for j, k in again.items()}
    assert len({k.key for k in first.values()}) == len(first) == 8
    per_arch = first[("math-libs", FAMILIES[0])]
    assert per_arch.inputs["family"] == FAMILIES[0]
    assert per_arch.inputs["upstream:compiler-runtime"] == first[("compiler-runtime", "")].key
    assert first[("ml-libs", FAMILIES[1])].inputs["upstream:math-libs[gfx94X-dcgpu]"] == (
        first[("math-libs", FAMILIES[1])].key
    )
    assert all(len(k.key) == 64 for k in first.values())


def test_a_whole_folder_input_is_its_git_tree_id(
    topology: Topology, inputs: InputsConfig, tree: SourceTree
) -> None:
    key = keys_of(topology, inputs, tree)[("tools", "")]
    assert key.inputs["input:cmake/"] == tree.trees["cmake"]
    assert key.kinds["input:cmake/"] == "tree"
    assert key.inputs["input:CMakeLists.txt"] == tree.files["CMakeLists.txt"].oid
    # src/tools holds README.md files (no-stage): its digest leaves them out.
    assert key.kinds["source:src/tools/"] == "sha256"
    readme = next(p for p in tree.files if p.startswith("src/tools/") and p.endswith(".md"))
    assert keys_of(topology, inputs, edit(tree, readme))[("tools", "")].key == key.key


SOURCES = {
    "src/tools/smi/src/smi.c": {"tools"},
    "src/third-party/sysdeps/src/crc32.c": {"foundation"},
    "src/math-libs/blas/src/rsblas.c": {"math-libs", "ml-libs"},  # source set "math"
    "src/comm-libs/ccl/src/ccl.cpp": {"comm-libs"},
    "cmake/rockshard_subproject.cmake": "all",
    "action_lib/artifacts/archive.py": "all",
    "README.md": set(),
    ".github/workflows/rockshard-linux.yml": set(),
    "docs/cache.md": set(),
    "tests/test_cache_keys.py": set(),
    "a-new-file-nothing-claims.txt": "all",
}


@pytest.mark.parametrize("path", sorted(SOURCES), ids=sorted(SOURCES))
def test_an_edit_changes_its_stage_and_those_downstream_and_no_other(
    topology: Topology, inputs: InputsConfig, tree: SourceTree, path: str
) -> None:
    before = keys_of(topology, inputs, tree)
    after = keys_of(topology, inputs, edit(tree, path))
    direct = SOURCES[path]
    active = set(queries.active_stages(topology, LINUX))
    expected = active if direct == "all" else downstream(topology, set(direct))
    assert changed(before, after) == expected


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_keys_change_exactly_where_impact_says(
    topology: Topology, inputs: InputsConfig, tree: SourceTree, data: st.DataObject
) -> None:
    """One declaration, two readers: the stages whose key an edit changes are the stages
    impact marks affected with the rules the same [inputs] table implies."""
    model = ("BUILD_TOPOLOGY.toml", ".gitmodules", "rockshard-pipeline.toml")
    paths = sorted(p for p in tree.files if p not in model)
    picked = data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique=True))
    edited = tree
    for path in picked:
        edited = edit(edited, path)
    got = changed(keys_of(topology, inputs, tree), keys_of(topology, inputs, edited))
    rules = inputs.impact_rules(topology, "BUILD_TOPOLOGY.toml", "rockshard-pipeline.toml")
    report = compute_impact(topology, [Change(p) for p in picked], rules=rules, conditions=LINUX)
    assert got == set(report.affected), picked


def test_a_topology_edit_elsewhere_changes_no_other_key(
    topology: Topology, inputs: InputsConfig, tree: SourceTree
) -> None:
    text = (REPO / "BUILD_TOPOLOGY.toml").read_text(encoding="utf-8")
    before = keys_of(topology, inputs, tree)
    # A description anywhere changes nothing; a platform rule of a tools artifact changes
    # tools only (a leaf); a dependency of a foundation artifact changes everything below it.
    described = parse_topology(text.replace('"Command-line tools"', '"The tools"'), "t.toml")
    assert changed(before, keys_of(described, inputs, tree)) == set()
    smi = text.replace(
        'artifact_deps = ["core-runtime"]\ndisable_processors = ["aarch64"]',
        'artifact_deps = ["core-runtime"]\ndisable_processors = ["aarch64", "ppc64le"]',
    )
    assert smi != text
    assert changed(before, keys_of(parse_topology(smi, "t.toml"), inputs, tree)) == {"tools"}
    fmt = text.replace(
        '[artifacts.fmtlite]\nartifact_group = "third-party"\ntype = "target-neutral"\n',
        '[artifacts.fmtlite]\nartifact_group = "third-party"\ntype = "target-neutral"\n'
        'artifact_deps = ["sysdeps"]\n',
    )
    assert fmt != text
    got = changed(before, keys_of(parse_topology(fmt, "t.toml"), inputs, tree))
    assert got == set(queries.active_stages(topology, LINUX))


FLAGGED = """\
[metadata]
version = "2.0"
description = "flags"

[source_sets.a]
path_prefixes = ["a"]

[source_sets.b]
path_prefixes = ["b"]

[build_stages.one]
artifact_groups = ["ga"]

[build_stages.two]
artifact_groups = ["gb"]

[build_stages.three]
artifact_groups = ["gc"]

[artifact_groups.ga]
type = "generic"
source_sets = ["a"]

[artifact_groups.gb]
type = "generic"
artifact_group_deps = ["ga"]
source_sets = ["b"]

[artifact_groups.gc]
type = "generic"
artifact_group_deps = ["ga"]
source_sets = ["a"]

[artifacts.x]
artifact_group = "ga"

[artifacts.y]
artifact_group = "gb"
artifact_deps = ["x"]
disable_platforms_if_flags_not_set = { linux = "FANCY" }

[artifacts.w]
artifact_group = "gb"
artifact_deps = ["x"]

[artifacts.z]
artifact_group = "gc"
artifact_deps = ["x"]
"""


def flagged_tree() -> SourceTree:
    files = {
        p: Entry("100644", hashlib.sha1(p.encode()).hexdigest())
        for p in ("a/x.c", "b/y.c", "CMakeLists.txt", "cmake/m.cmake")
    }
    return SourceTree("1" * 40, files)


@pytest.mark.parametrize(
    "flags", [frozenset({"FANCY"}), frozenset({"OTHER"})], ids=["FANCY", "OTHER"]
)
def test_a_flag_changes_exactly_the_stages_it_concerns(flags: frozenset[str]) -> None:
    topo = parse_topology(FLAGGED, "flags.toml")
    tree = flagged_tree()

    def keys(conditions: Conditions) -> dict[str, StageKey]:
        ctx = KeyContext(topo, conditions, InputsConfig(), tree)
        return {j.stage: k for j, k in compute_keys(ctx, ()).items()}

    plain, flagged = keys(LINUX), keys(Conditions("linux", flags=flags))
    moved = {s for s in plain if plain[s].key != flagged[s].key}
    assert moved == ({"two"} if "FANCY" in flags else set())
    assert "flags" not in plain["one"].inputs and "flags" not in plain["three"].inputs
    # On another platform the flag concerns nothing.
    win, win_flagged = keys(Conditions("windows")), keys(Conditions("windows", flags=flags))
    assert {s: k.key for s, k in win.items()} == {s: k.key for s, k in win_flagged.items()}


def test_families_key_only_per_arch_jobs(
    topology: Topology, inputs: InputsConfig, tree: SourceTree
) -> None:
    ctx = KeyContext(topology, LINUX, inputs, tree)
    two = {(j.stage, j.family): k.key for j, k in compute_keys(ctx, FAMILIES).items()}
    three = {
        (j.stage, j.family): k.key for j, k in compute_keys(ctx, (*FAMILIES, "gfx1151")).items()
    }
    new = {job for job in three if job not in two}
    assert new == {("math-libs", "gfx1151"), ("ml-libs", "gfx1151")}
    assert all(three[job] == key for job, key in two.items())


def test_environment_and_runner_are_named_inputs(topology: Topology, tree: SourceTree) -> None:
    inputs = InputsConfig(
        environment=("IMAGE_DIGEST",), stages={"tools": StageInputs(environment=("TOOL_CC",))}
    )
    ctx = KeyContext(topology, LINUX, inputs, tree, environ={"IMAGE_DIGEST": "sha256:aa"})
    computer = KeyComputer(ctx)
    tools = computer.key("tools")
    assert tools.inputs["env:IMAGE_DIGEST"] == "sha256:aa"
    assert tools.inputs["env:TOOL_CC"] == "(unset)"
    assert "env:TOOL_CC" not in computer.key("foundation").inputs
    other = KeyComputer(replace(ctx, runs_on={"tools": "big-runner"}))
    assert other.key("tools").key != tools.key
    assert other.key("foundation").key == computer.key("foundation").key


def test_content_key_follows_the_inbound_bytes(
    topology: Topology, inputs: InputsConfig, tree: SourceTree
) -> None:
    key = keys_of(topology, inputs, tree)[("tools", "")]
    inbound = {"kcc_run_generic.tar.zst": "a" * 64, "ccl_lib_generic.tar.zst": "b" * 64}
    same = key.content_key(dict(reversed(list(inbound.items()))))
    assert key.content_key(inbound) == same != key.key
    assert key.content_key({**inbound, "ccl_lib_generic.tar.zst": "c" * 64}) != same
    # Upstream keys are not part of a content key: a rebuilt upstream stage that produced the
    # same bytes leaves it alone.
    moved = StageKey(key.stage, "", "f" * 64, {**key.inputs, "upstream:foundation": "0" * 64})
    assert moved.content_key(inbound) == same


def test_unreadable_inputs_are_errors_naming_them(topology: Topology, tree: SourceTree) -> None:
    text = (
        '[inputs]\nevery-stage = ["cmake/", "no/such/dir/"]\n\n'
        '[inputs.stages.tools]\npaths = ["gone.txt"]\n'
    )
    config = parse_pipeline_config(text, "p.toml", tuple(topology.build_stages)).inputs
    ctx = KeyContext(topology, LINUX, config, tree)
    with pytest.raises(FindingsError) as caught:
        compute_keys(ctx, FAMILIES)
    lines = caught.value.lines()
    assert len(lines) == 2, lines
    assert "p.toml:2" in lines[0] and "every-stage path 'no/such/dir/'" in lines[0], lines
    assert "p.toml:5" in lines[1] and "path of stage tools 'gone.txt'" in lines[1], lines


SUBMODULES = """\
[metadata]
version = "2.0"
description = "submodules"

[source_sets.compilers]
submodules = ["llvm-project"]

[build_stages.compiler]
artifact_groups = ["comp"]

[artifact_groups.comp]
type = "generic"
source_sets = ["compilers"]

[artifacts.cc]
artifact_group = "comp"
"""


def test_a_submodule_is_its_gitlink_commit_and_a_missing_one_is_an_error() -> None:
    topo = parse_topology(SUBMODULES, "sub.toml")
    gitlink = Entry("160000", "c" * 40)
    files = {
        "compiler/amd-llvm": gitlink,
        "CMakeLists.txt": Entry("100644", "1" * 40),
        "cmake/a.cmake": Entry("100644", "2" * 40),
    }
    subs = (GitSubmodule("llvm-project", "compiler/amd-llvm"),)
    ctx = KeyContext(topo, LINUX, InputsConfig(), SourceTree("9" * 40, files), subs)
    key = KeyComputer(ctx).key("compiler")
    assert key.inputs["submodule:llvm-project"] == "c" * 40
    moved = SourceTree("9" * 40, {**files, "compiler/amd-llvm": Entry("160000", "d" * 40)})
    assert KeyComputer(replace(ctx, tree=moved)).key("compiler").key != key.key
    for tree, subs_ in (
        (SourceTree("9" * 40, {k: v for k, v in files.items() if k != "compiler/amd-llvm"}), subs),
        (SourceTree("9" * 40, files), ()),
    ):
        with pytest.raises(FindingsError) as caught:
            compute_keys(replace(ctx, tree=tree, submodules=subs_), ())
        assert "submodule 'llvm-project' (source set compilers)" in str(caught.value)
        assert "sub.toml:" in str(caught.value)


def parse_topology(text: str, path: str) -> Topology:
    """A topology from text; the test fails on any finding."""
    topology, findings = check_topology_text(text, path)
    assert findings == [], findings
    return topology


def test_default_inputs_may_be_absent_declared_ones_may_not() -> None:
    topo = parse_topology(
        SUBMODULES.replace('submodules = ["llvm-project"]', "submodules = []"), "t.toml"
    )
    tree = SourceTree("9" * 40, {"CMakeLists.txt": Entry("100644", "1" * 40)})  # no cmake/
    key = KeyComputer(KeyContext(topo, LINUX, InputsConfig(), tree)).key("compiler")
    assert "input:CMakeLists.txt" in key.inputs and "input:cmake/" not in key.inputs
    declared = InputsConfig(every_stage=("cmake/",), declared=True, origin="p.toml")
    with pytest.raises(FindingsError, match="every-stage path 'cmake/'"):
        compute_keys(KeyContext(topo, LINUX, declared, tree), ())
