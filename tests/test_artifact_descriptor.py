"""Descriptors: TheRock's 68 parse; every problem is a located finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_lib.artifacts.descriptor import glob_regex, load_descriptor, parse_descriptor
from action_lib.artifacts.names import COMPONENTS
from action_lib.errors import FindingsError


@pytest.mark.therock
def test_all_therock_descriptors_parse(therock_dir: Path) -> None:
    paths = sorted(therock_dir.rglob("artifact*.toml"))
    assert len(paths) == 68
    for path in paths:
        for system in ("Linux", "Windows"):
            descriptor = load_descriptor(path, path.stem.removeprefix("artifact-") or "x", system)
            assert tuple(descriptor.components) == COMPONENTS, path
            assert descriptor.basedirs, path


@pytest.mark.therock
def test_therock_platform_optional(therock_dir: Path) -> None:
    base = therock_dir / "base" / "artifact.toml"
    linux = load_descriptor(base, "base", "Linux")
    windows = load_descriptor(base, "base", "Windows")
    assert any(b.optional for c in windows.components.values() for b in c.basedirs)
    optional_linux = sum(b.optional for c in linux.components.values() for b in c.basedirs)
    optional_windows = sum(b.optional for c in windows.components.values() for b in c.basedirs)
    assert optional_windows > optional_linux


BAD = [
    (
        '[components.lib."a/stage"]\nincluded = ["x"]\n',
        2,
        "descriptor-key",
        "did you mean 'include'",
    ),
    ('[components.lbi."a/stage"]\n', 1, "descriptor-component", "did you mean 'lib'"),
    ('[components.lib."a/stage"]\ninclude = 3\n', 2, "descriptor-type", "string or a list"),
    ('[components.lib."../up/stage"]\n', 1, "descriptor-path", "without '..'"),
    ('[components.lib."a/stage"]\nexclude = ["/abs/**"]\n', 2, "descriptor-pattern", "relative"),
    (
        '[components.lib."a/stage"]\ndefault_patterns = "no"\n',
        2,
        "descriptor-type",
        "true or false",
    ),
    ('[components.lib]\nextends = "dvv"\n', 2, "descriptor-extends", "did you mean 'dev'"),
    ('[components.lib]\nextends = "run"\n', 2, "descriptor-extends", "circular"),
    ("[options]\nunmatched_excludes = []\n", 2, "descriptor-key", "unmatched_exclude"),
    ("[components.lib\n", 1, "toml", "malformed TOML"),
    ("[unknown]\n", 1, "descriptor-key", "allowed"),
]


@pytest.mark.parametrize(
    ("text", "line", "code", "words"),
    BAD,
    ids=[
        "unknown-key",
        "unknown-component",
        "bad-type",
        "dotdot-stage-dir",
        "absolute-pattern",
        "bad-bool",
        "unknown-extends",
        "circular-extends",
        "unknown-option",
        "syntax",
        "unknown-table",
    ],
)
def test_findings_are_located(text: str, line: int, code: str, words: str) -> None:
    _, findings = parse_descriptor(text, "d.toml", "x")
    assert findings, text
    finding = findings[0]
    assert (finding.file, finding.line, finding.code) == ("d.toml", line, code)
    assert words in finding.format()


def test_load_raises_findings_error(tmp_path: Path) -> None:
    path = tmp_path / "artifact.toml"
    path.write_text('[components.lbi."a/stage"]\n[components.lib."a/stage"]\nincluded = 1\n')
    with pytest.raises(FindingsError) as caught:
        load_descriptor(path, "x")
    assert [f.line for f in caught.value.findings] == [1, 3]


def test_defaults_and_dbg_scans_every_stage_dir() -> None:
    text = '[components.run."a/stage"]\ninclude = ["bin/**"]\n[components.lib."b/stage"]\n'
    descriptor, findings = parse_descriptor(text, "d.toml", "x")
    assert not findings
    dbg = descriptor.components["dbg"]
    assert [b.path for b in dbg.basedirs] == ["a/stage", "b/stage"]
    assert not dbg.declared
    lib = descriptor.components["lib"].basedirs[0]
    assert lib.predicate.matches("lib/libx.so.1")
    assert not lib.predicate.matches("bin/tool")


@pytest.mark.parametrize(
    ("glob", "yes", "no"),
    [
        ("**/*.so", ["libx.so", "lib/libx.so", "a/b/libx.so"], ["libx.so.1", "lib/x.sox"]),
        ("bin/**", ["bin", "bin/x", "bin/a/b"], ["sbin/x", "binx"]),
        ("**/include/**", ["include", "include/a.h", "x/include/y/z.h"], ["includes/a.h"]),
        ("lib/*.a", ["lib/x.a"], ["lib/sub/x.a", "x.a"]),
        ("a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a/xb"]),
    ],
    ids=["leading-recursive", "trailing-recursive", "both", "single-segment", "middle"],
)
def test_glob_semantics(glob: str, yes: list[str], no: list[str]) -> None:
    pattern = glob_regex(glob)
    assert all(pattern.match(p) for p in yes)
    assert not any(pattern.match(p) for p in no)
