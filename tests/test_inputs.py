"""The TOML-input toolkit: line index, syntax errors, the reader, did-you-mean, the list parser."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from action_lib.artifacts.descriptor import parse_descriptor
from action_lib.errors import Finding, FindingsError
from action_lib.impact import parse_rules
from action_lib.inputs import (
    SYNTAX,
    LineIndex,
    TomlReader,
    dotted,
    parse_list,
    suggest,
    syntax_finding,
    unknown,
)
from action_lib.inputs.toml import tomllib
from action_lib.pipeline.config import parse_pipeline_config
from action_lib.topology import Topology, load_topology, parse_topology

REPO = Path(__file__).resolve().parent.parent

INDEXED = """\
# a comment
[metadata]
version = "1"

[artifacts.alpha]   # trailing comment
artifact_group = "g"
artifact_deps = [
    "beta",
    not_a_key = 1,
]
"quoted key" = "x"
'literal.key' = "y"
plain.dotted.key = true
after = 2

[[jobs]]
name = "first"
[[jobs]]
name = "second"

[impact.folders]
"src/math" = ["math-libs"]
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("metadata",), 2),
        (("metadata", "version"), 3),
        (("artifacts",), 5),
        (("artifacts", "alpha"), 5),
        (("artifacts", "alpha", "artifact_deps"), 7),
        (("artifacts", "alpha", "not_a_key"), 5),
        (("artifacts", "alpha", "quoted key"), 11),
        (("artifacts", "alpha", "literal.key"), 12),
        (("artifacts", "alpha", "plain"), 13),
        (("artifacts", "alpha", "plain", "dotted", "key"), 13),
        (("artifacts", "alpha", "after"), 14),
        (("artifacts", "alpha", "missing"), 5),
        (("jobs", "name"), 17),
        (("impact", "folders", "src/math"), 22),
        (("nowhere",), 0),
        ((), 0),
    ],
    ids=[
        "table",
        "key",
        "parent-of-dotted-header",
        "dotted-header",
        "multi-line-value",
        "key-inside-a-value-is-not-a-key",
        "quoted-key",
        "literal-key-with-a-dot",
        "dotted-key-first-part",
        "dotted-key-whole",
        "key-after-a-multi-line-value",
        "unknown-key-falls-back-to-its-table",
        "array-of-tables-first-wins",
        "quoted-folder-key",
        "unknown-table",
        "empty-path",
    ],
)
def test_line_index(path: tuple[str, ...], line: int) -> None:
    assert LineIndex(INDEXED).line(*path) == line


def test_line_index_of_an_empty_text() -> None:
    assert LineIndex("").line("a") == 0


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[metadata\n", 1),
        ('a = 1\nb = "x\n', 2),
        ("a = 1\n\nb = \n", 3),
        ("a = 1\na = 2\n", 2),
        ("[a]\n[a]\n", 2),
        ("x = [\n", 1),
        ("a = 1\nx = [\n  1,\n", 3),
        ('x = "abc', 1),
    ],
    ids=[
        "table-header",
        "unterminated-string",
        "missing-value",
        "duplicate-key",
        "duplicate-table",
        "end-of-document",
        "end-of-document-after-lines",
        "end-of-document-no-newline",
    ],
)
def test_syntax_error_is_at_its_line(text: str, line: int) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(text)
    finding = syntax_finding(caught.value, text, "f.toml")
    assert (finding.file, finding.line, finding.code) == ("f.toml", line, SYNTAX)
    assert finding.message.startswith("malformed TOML: ")
    assert "(at " not in finding.message
    assert finding.format().startswith(f"f.toml:{line}: error[toml]: malformed TOML")


def _topology_findings(text: str) -> list[Finding]:
    return parse_topology(text, "f.toml")[1]


def _descriptor_findings(text: str) -> list[Finding]:
    return parse_descriptor(text, "f.toml", "x")[1]


def _pipeline_findings(text: str) -> list[Finding]:
    with pytest.raises(FindingsError) as caught:
        parse_pipeline_config(text, "f.toml")
    return list(caught.value.findings)


def _impact_findings(text: str) -> list[Finding]:
    topology = load_topology(REPO / "BUILD_TOPOLOGY.toml")
    with pytest.raises(FindingsError) as caught:
        parse_rules(text, "f.toml", topology)
    return list(caught.value.findings)


@pytest.mark.parametrize(
    "findings_of",
    [_topology_findings, _descriptor_findings, _pipeline_findings, _impact_findings],
    ids=["topology", "descriptor", "pipeline-settings", "impact-rules"],
)
def test_every_reader_reports_one_syntax_code_at_the_real_line(
    findings_of: Callable[[str], list[Finding]],
) -> None:
    found = findings_of("[ok]\nx = 1\ny = = 2\n")
    assert [(f.file, f.line, f.code) for f in found] == [("f.toml", 3, "toml")]
    assert found[0].hint == "fix the syntax"


def test_reader_locates_findings_with_their_key_path() -> None:
    reader = TomlReader('[components.lib."a/stage"]\ninclude = 3\n', "d.toml")
    assert not reader.malformed and reader.data["components"]["lib"]["a/stage"]["include"] == 3
    reader.add("type", "bad include", "components", "lib", "a/stage", "include", hint="a list")
    finding = reader.findings[0]
    assert (finding.line, finding.key) == (2, 'components.lib."a/stage".include')
    assert finding.format() == "d.toml:2: error[type]: bad include (a list)"


def test_reader_unknown_keys_and_tables() -> None:
    reader = TomlReader("[defaults]\ntimeout = 3\nruns-on = 'x'\n[platforms]\nlinux = 3\n", "p")
    reader.unknown_keys(reader.data["defaults"], ("runs-on", "timeout-minutes"), "defaults")
    assert reader.table(reader.data["platforms"]["linux"], "platforms", "linux") == {}
    assert [f.format() for f in reader.findings] == [
        "p:2: error[unknown-key]: unknown key 'timeout' in [defaults] "
        "(did you mean 'timeout-minutes'?)",
        "p:5: error[type]: [platforms.linux] must be a table",
    ]
    with pytest.raises(FindingsError, match="and 1 more"):
        reader.raise_findings()


def test_reader_without_findings_does_not_raise() -> None:
    reader = TomlReader("a = 1\n", "p")
    reader.raise_findings()
    assert reader.findings == []


@pytest.mark.parametrize(
    ("key", "text"),
    [
        (("a",), "a"),
        (("a", "b-c_1"), "a.b-c_1"),
        (("components", "lib", "a/stage"), 'components.lib."a/stage"'),
        (("x y",), '"x y"'),
        ((), ""),
    ],
    ids=["bare", "bare-path", "quoted-part", "space", "empty"],
)
def test_dotted(key: tuple[str, ...], text: str) -> None:
    assert dotted(*key) == text


def test_finding_key_changes_neither_format_nor_equality() -> None:
    plain = Finding("f", 3, "code", "message", "hint")
    keyed = Finding("f", 3, "code", "message", "hint", key="a.b")
    assert plain == keyed
    assert plain.format() == keyed.format() == "f:3: error[code]: message (hint)"


@pytest.mark.parametrize(
    ("word", "choices", "hint"),
    [
        ("tool", ("tools", "math-libs"), "did you mean 'tools'?"),
        ("xyz", ("tools", "math-libs"), ""),
        ("tools", [], ""),
        ("affects_al", {"affects_all": 1, "folders": 2}, "did you mean 'affects_all'?"),
    ],
    ids=["close", "none-close", "no-choices", "mapping-keys"],
)
def test_suggest(word: str, choices: Iterable[str], hint: str) -> None:
    assert suggest(word, choices) == hint


@pytest.mark.parametrize(
    ("name", "options", "message", "hint", "line"),
    [
        (
            "tool",
            {"listing": "stages"},
            "unknown stage 'tool'",
            "did you mean 'tools'?",
            "unknown stage 'tool': did you mean 'tools'?",
        ),
        (
            "zzz",
            {"listing": "stages"},
            "unknown stage 'zzz'",
            "stages: tools, base",
            "unknown stage 'zzz' (stages: tools, base)",
        ),
        (
            "zzz",
            {"within": "in --exclude"},
            "unknown stage 'zzz' in --exclude",
            "",
            "unknown stage 'zzz' in --exclude",
        ),
        (
            "tool",
            {"shown": "[tool]", "within": "in p.toml"},
            "unknown stage [tool] in p.toml",
            "did you mean 'tools'?",
            "unknown stage [tool] in p.toml: did you mean 'tools'?",
        ),
    ],
    ids=["did-you-mean", "listing", "no-hint", "shown-name"],
)
def test_unknown(name: str, options: dict[str, str], message: str, hint: str, line: str) -> None:
    found = unknown("stage", name, ("tools", "base"), **options)
    assert (found.message, found.hint, str(found)) == (message, hint, line)


@pytest.mark.parametrize(
    ("value", "items"),
    [
        ("a,b", ("a", "b")),
        ("a;b", ("a", "b")),
        (" a ; b,a ,", ("a", "b")),
        ("gfx94X-dcgpu gfx110X-all", ("gfx94X-dcgpu", "gfx110X-all")),
        ("a,,;;b", ("a", "b")),
        ("b,a,b,c,a", ("b", "a", "c")),
        ("", ()),
        (" ,; ", ()),
        (None, ()),
        (["a;b", "c", "a"], ("a", "b", "c")),
        ((), ()),
    ],
    ids=[
        "comma",
        "semicolon",
        "trimmed-and-deduplicated",
        "whitespace",
        "empties-dropped",
        "first-kept-order-kept",
        "empty",
        "only-separators",
        "none",
        "several-texts",
        "no-texts",
    ],
)
def test_parse_list(value: str | list[str] | None, items: tuple[str, ...]) -> None:
    assert parse_list(value) == items


@pytest.mark.parametrize(
    ("argv", "stages"),
    [
        ([], ()),
        (["--stages", "b, a;b"], ("b", "a")),
        (["--stages", ""], ()),
    ],
    ids=["default", "given", "given-empty"],
)
def test_parse_list_as_argparse_type(argv: list[str], stages: tuple[str, ...]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stages", type=parse_list, default="")
    assert parser.parse_args(argv).stages == stages


NAMES = st.lists(st.from_regex(r"[a-z0-9][a-z0-9-]{0,8}", fullmatch=True), max_size=8)
SEPARATORS = st.sampled_from([",", ";", " ", ", ", " ; ", ",,", "\t"])


@given(NAMES, st.data())
def test_parse_list_round_trips_any_separators(names: list[str], data: st.DataObject) -> None:
    text = ""
    for name in names:
        text += name + data.draw(SEPARATORS)
    assert parse_list(text) == tuple(dict.fromkeys(names))


def test_line_index_matches_every_key_of_this_repository_topology() -> None:
    text = (REPO / "BUILD_TOPOLOGY.toml").read_text(encoding="utf-8")
    topology: Topology = parse_topology(text, "t")[0]
    index = LineIndex(text)
    lines = text.splitlines()
    for name in topology.artifacts:
        number = index.line("artifacts", name)
        assert lines[number - 1].strip() == f"[artifacts.{name}]"
        group = index.line("artifacts", name, "artifact_group")
        assert lines[group - 1].lstrip().startswith("artifact_group")
