"""The [inputs] table, the records' format and explain's words (pure); TheRock's preset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from action_lib.cache.classify import PatternSet
from action_lib.cache.explain import describe, diff_inputs, explain_lines
from action_lib.cache.inputs_config import DEFAULT_EVERY_STAGE, InputsConfig, rules_from_file
from action_lib.cache.records import (
    ArchiveRef,
    CacheRecord,
    parse_record,
    parse_record_name,
    record_name,
)
from action_lib.errors import FindingsError
from action_lib.impact.rules import first_match
from action_lib.pipeline.config import parse_pipeline_config
from action_lib.topology import load_topology

REPO = Path(__file__).resolve().parent.parent
STAGES = ("foundation", "tools", "math-libs")


def parse(text: str) -> InputsConfig:
    return parse_pipeline_config(text, "p.toml", STAGES).inputs


def test_no_table_means_the_defaults() -> None:
    config = parse("[defaults]\ntimeout-minutes = 30\n")
    assert not config.declared
    assert config.every_stage == DEFAULT_EVERY_STAGE
    assert ".github/" in config.no_stage


def test_a_table_is_read_with_its_lines() -> None:
    config = parse(
        "[inputs]\n"
        'every-stage = ["CMakeLists.txt", "cmake/"]\n'
        'no-stage = ["docs/", "*.md"]\n'
        'environment = ["IMAGE_DIGEST"]\n'
        "\n"
        "[inputs.stages.tools]\n"
        'paths = ["tools-extra/"]\n'
        'environment = ["TOOLS_CC"]\n'
    )
    assert config.declared and config.origin == "p.toml"
    assert config.every_stage == ("CMakeLists.txt", "cmake/")
    assert config.environment == ("IMAGE_DIGEST",)
    assert config.stages["tools"].paths == ("tools-extra/",)
    assert config.where("cmake/") == ("p.toml", 2)
    assert config.where("tools-extra/") == ("p.toml", 7)
    assert config.stage_paths() == {"tools-extra": ("tools",)}


BAD = [
    ('[inputs]\nevery-stage = ["cmake/*.cmake"]\n', "p.toml:2", "is a pattern"),
    ('[inputs]\nevery-stage = ["../outside"]\n', "p.toml:2", "not a path inside"),
    ('[inputs]\nevery-stage = "cmake/"\n', "p.toml:2", "must be a list"),
    ('[inputs]\nenvironment = ["1BAD"]\n', "p.toml:2", "not an environment variable name"),
    ('[inputs]\nevry-stage = ["cmake/"]\n', "p.toml:2", "did you mean 'every-stage'"),
    ('[inputs.stages.toolz]\npaths = ["x/"]\n', "p.toml:1", "did you mean 'tools'"),
    ('[inputs.stages.tools]\npath = ["x/"]\n', "p.toml:2", "did you mean 'paths'"),
]


@pytest.mark.parametrize(("text", "where", "words"), BAD, ids=[b[2] for b in BAD])
def test_bad_tables_are_located_findings(text: str, where: str, words: str) -> None:
    with pytest.raises(FindingsError) as caught:
        parse(text)
    line = caught.value.lines()[0]
    assert line.startswith(where + ":") and words in line, line


def test_the_declaration_drives_impact() -> None:
    topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    config = parse_pipeline_config(
        '[inputs]\nevery-stage = ["cmake/"]\nno-stage = ["docs/"]\n'
        '[inputs.stages.tools]\npaths = ["extras/tools/"]\n',
        "p.toml",
    ).inputs
    rules = config.impact_rules(topology, "BUILD_TOPOLOGY.toml", "p.toml")
    assert rules.affects_all == ("cmake/", "BUILD_TOPOLOGY.toml", ".gitmodules", "p.toml")
    assert rules.affects_none == ("docs/",)
    assert rules.folders == {"extras/tools": ("tools",)}


PATTERNS = ["build_tools/", "build_tools/packaging/", "*.md", "build_tools/*/tests/", "x.txt"]


@pytest.mark.parametrize(
    "path",
    [
        "build_tools/a.py",
        "build_tools/packaging/b.py",
        "build_tools/x/tests/t.py",
        "docs/README.md",
        "x.txt",
        "y/x.txt",
        "other",
    ],
)
def test_the_pattern_index_agrees_with_impact(path: str) -> None:
    folders = []
    rest = path
    while rest:
        rest = rest.rpartition("/")[0]
        folders.append(rest)
    assert PatternSet(PATTERNS).best(path, folders) == first_match(PATTERNS, path)


def record() -> CacheRecord:
    return CacheRecord(
        stage="math-libs",
        family="gfx94X-dcgpu",
        platform="linux",
        key="a" * 64,
        content_key="b" * 64,
        run="1234-linux",
        commit="c" * 40,
        created="2026-08-22T09:14:03+00:00",
        archives={"blas_lib_gfx94X-dcgpu.tar.zst": ArchiveRef("d" * 64, 10, "etag:x")},
        inputs={"stage": "math-libs"},
        inbound={"kcc_run_generic.tar.zst": "e" * 64},
    )


def test_records_round_trip_and_malformed_ones_are_refused() -> None:
    rec = record()
    assert parse_record(rec.text()) == rec
    data = json.loads(rec.text())
    for broken, words in (
        ({**data, "schema": 9}, "schema"),
        ({**data, "key": "nope"}, "'key' is not a sha256"),
        ({**data, "archives": {}}, "'archives'"),
        ({**data, "archives": {"x": {"digest": "z", "size": 1}}}, "archive 'x'"),
        ({k: v for k, v in data.items() if k != "run"}, "'run'"),
    ):
        with pytest.raises(ValueError, match=words):
            parse_record(json.dumps(broken))


def test_record_names() -> None:
    name = record_name("math-libs", "gfx94X-dcgpu", "a" * 64)
    assert parse_record_name(name) == ("math-libs", "gfx94X-dcgpu", "a" * 64)
    assert parse_record_name(record_name("tools", "", "latest")) == ("tools", "", "latest")
    assert parse_record_name("rockshard-shard_tools_generic.json") is None


def test_explain_names_each_changed_input() -> None:
    old = {
        "submodule:rocm-libraries": "1a2b3c" + "0" * 34,
        "input:cmake/": "9f01" + "0" * 36,
        "env:IMAGE": "v1",
        "upstream:compiler-runtime": "a" * 64,
        "topology": "b" * 64,
        "unclaimed:.ci/": "c" * 40,
        "stage": "tools",
    }
    new = {
        **old,
        "submodule:rocm-libraries": "4d5e6f" + "0" * 34,
        "input:cmake/": "7e22" + "0" * 36,
        "env:IMAGE": "v2",
        "upstream:compiler-runtime": "f" * 64,
        "topology": "e" * 64,
        "unclaimed:.ci/": "d" * 40,
        "inbound:blas_lib_gfx94X-dcgpu.tar.zst": "9" * 64,
    }
    del new["stage"]
    kinds = {"input:cmake/": "tree", "unclaimed:.ci/": "tree"}
    lines = explain_lines(old, new, kinds)
    assert [c.name for c in diff_inputs(old, new)][-1] == "upstream:compiler-runtime"
    assert "submodule rocm-libraries 1a2b3c000000 -> 4d5e6f000000" in lines
    assert "cmake/: tree 9f0100000000 -> 7e2200000000" in lines
    assert "environment IMAGE: v1 -> v2" in lines
    assert any(line.startswith("topology: the stage's part") for line in lines)
    assert any(line.startswith(".ci/: tree") and "claims" in line for line in lines)
    assert "stage: no longer an input (was tools)" in lines
    assert any(
        line.startswith("inbound:blas_lib_gfx94X-dcgpu.tar.zst: new input") for line in lines
    )
    assert lines[-1] == f"upstream compiler-runtime: key {'a' * 12} -> {'f' * 12}"
    assert explain_lines(old, new, kinds, limit=2)[-1] == f"and {len(lines) - 2} more"
    change = diff_inputs({"inbound:x.tar.zst": "1" * 64}, {"inbound:x.tar.zst": "2" * 64})[0]
    assert describe(change) == f"inbound x.tar.zst: digest {'1' * 12} -> {'2' * 12}"


@pytest.mark.therock
def test_therock_preset_reads_clean(therock_topology_path: Path) -> None:
    topology = load_topology(therock_topology_path)
    text = (REPO / "action_lib" / "data" / "therock-pipeline.toml").read_text(encoding="utf-8")
    config = parse_pipeline_config(text, "therock-pipeline.toml", tuple(topology.build_stages))
    assert config.inputs.declared
    declared = {s for paths in config.inputs.stage_paths().values() for s in paths}
    assert declared == set(topology.build_stages)
    assert "build_tools/github_actions/" in config.inputs.no_stage
    assert "build_tools/" in config.inputs.every_stage


@pytest.mark.parametrize(
    ("text", "affects_all", "affects_none"),
    [
        (
            '[inputs]\nevery-stage = ["cmake/"]\nno-stage = ["docs/"]\n[workflow]\nmax-waves = 3\n',
            ("cmake/", "BUILD_TOPOLOGY.toml", ".gitmodules"),
            ("docs/",),
        ),
        ('[impact]\naffects_all = ["x/"]\naffects_none = ["y/"]\n', ("x/",), ("y/",)),
    ],
    ids=["settings-file-inputs", "impact-table"],
)
def test_one_rules_file_reader_for_impact_and_simulate(
    text: str, affects_all: tuple[str, ...], affects_none: tuple[str, ...]
) -> None:
    topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    rules = rules_from_file(text, "f.toml", topology)
    assert rules.affects_all == affects_all and rules.affects_none == affects_none


def test_a_rules_file_with_neither_table_is_a_located_error() -> None:
    topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    with pytest.raises(FindingsError, match=r"no \[impact\] table"):
        rules_from_file("[workflow]\nmax-waves = 3\n", "f.toml", topology)
    with pytest.raises(FindingsError, match="every-stage"):
        rules_from_file('[inputs]\nevery-stage = "cmake/"\n', "f.toml", topology)
