"""The one helper for printing outside data (inputs/untrusted.py), the path and URL rules
(inputs/paths.py), and the stdout/stderr guard (edges/gha.py)."""

from __future__ import annotations

import io
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from action_lib.edges import gha
from action_lib.inputs.paths import (
    commit_problems,
    component_problems,
    label_problems,
    origin_problems,
    relative_path_problems,
    run_folder_problems,
    url_problems,
)
from action_lib.inputs.untrusted import CommandGuard, escape, html, md, md_code, stop_commands
from tests.hostile import hostile_text, injections, runner_commands

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


@settings(max_examples=300)
@given(hostile_text(6))
def test_escape_keeps_one_line_that_starts_no_command(value: str) -> None:
    shown = escape(value)
    assert not CONTROL.search(shown)
    assert "::" not in shown and "##[" not in shown
    assert runner_commands(shown) == []
    for prefix in ("", " ", "x: ", "\t"):
        assert runner_commands(prefix + shown + "\n") == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("a\n::error::x", "a\\n:\\:error:\\:x"),
        ("##[add-mask]s", "##\\[add-mask]s"),
        ("tab\there", "tab\\there"),
        ("esc\x1b[31m", "esc\\x1b[31m"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("bytes\udcff", "bytes\\udcff"),
        (":::", ":\\:\\:"),
        ("C:\\Windows\\x", "C:\\Windows\\x"),
        ("plain/path.c", "plain/path.c"),
    ],
    ids=["newline-command", "v1", "tab", "ansi", "bidi", "surrogate", "colons", "windows", "plain"],
)
def test_escape_examples(value: str, shown: str) -> None:
    assert escape(value) == shown


def test_escape_limit_says_how_much_was_left_out() -> None:
    assert escape("x" * 4096, 10) == "x" * 10 + "...(+4086 characters)"


@settings(max_examples=200)
@given(hostile_text(6))
def test_md_renders_nothing_and_splits_no_cell(value: str) -> None:
    cell = md(value)
    assert not re.search(r"[<>|`*_\[\]\\]", cell), cell
    row = f"| {cell} | {md_code(value)} |"
    assert row.count("|") == 3  # the cell borders only
    assert runner_commands(row) == []


def test_html_is_well_formed_xml() -> None:
    text = "<b>&</b>\n::error::x\"'"
    ET.fromstring(f'<p title="{html(text)}">{html(text)}</p>')


def test_stop_commands_wraps_and_refuses_a_weak_or_leaked_token() -> None:
    token = "a" * 32
    wrapped = stop_commands("::error::x\n", token)
    assert wrapped == f"::stop-commands::{token}\n::error::x\n::{token}::\n"
    assert [c.name for c in runner_commands(wrapped)] == ["stop-commands"]
    with pytest.raises(ValueError, match="16 or more"):
        stop_commands("x", "short")
    with pytest.raises(ValueError, match="holds the stop-commands token"):
        stop_commands(f"::{token}::\n::error::x\n", token)


@settings(max_examples=300)
@given(st.lists(hostile_text(3), min_size=1, max_size=8))
def test_guard_lets_no_command_through_whatever_the_pieces(pieces: list[str]) -> None:
    guard = CommandGuard()
    out = "".join(guard.feed(p) for p in pieces)
    assert runner_commands(out) == []
    out.encode("utf-8")  # no lone surrogate left: writing never raises


def test_guard_joins_commands_split_across_writes() -> None:
    guard = CommandGuard()
    out = guard.feed("  :") + guard.feed(":error::x\n#") + guard.feed("#[add-mask]y\n")
    assert runner_commands(out) == [] and guard.neutralised == 2
    assert guard.feed("plain\r") == "plain\r"  # a progress line passes unchanged


def test_guarded_streams_let_rockshard_issue_its_commands(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, "stdout", out), mock.patch.object(sys, "stderr", err):
        env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "o")}
        (tmp_path / "o").touch()
        with mock.patch.dict(os.environ, env), gha.guard_output():
            sys.stdout.write("a\n::add-mask::PWN\n")
            sys.stderr.write("::error::PWN\n")
            gha.error("a\n::error::PWN")
            gha.warning("::warning::PWN", ["b\n::add-mask::PWN"])
            gha.write_listing("path\n::error::PWN\n")
            with gha.group("g\n::add-mask::PWN"):
                print("inside")
    stdout, stderr = out.getvalue(), err.getvalue()
    assert injections(stdout, in_actions=True) == [] and injections(stderr) == []
    names = [c.name for c in runner_commands(stdout)]
    assert names == ["error", "warning", "stop-commands", "group", "endgroup"], stdout


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("src/math", None),
        ("../up", "leaves its root"),
        ("a/../../x", "leaves its root"),
        ("/etc", "is absolute"),
        ("\\\\server\\share", "is absolute"),
        ("C:\\x", "names a Windows drive"),
        ("src/CON", "reserved Windows name 'CON'"),
        ("src/com1.txt", "reserved Windows name 'com1'"),
        ("a\nb", "control or invisible"),
        ("-x", "starts with '-'"),
        ("src/.git/hooks", ".git"),
        ("a*b", "Windows refuses"),
        ("x" * 1025, "longer than 1024"),
        ("", "is empty"),
    ],
    ids=lambda v: v[:12] if isinstance(v, str) else str(v),
)
def test_relative_path_rules(value: str, problem: str | None) -> None:
    found = relative_path_problems(value)
    assert (found == []) if problem is None else any(problem in p for p in found), found


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://github.com/ROCm/hrx.git", None),
        ("ssh://git@example.com/x.git", None),
        ("file:///srv/mirror/x.git", None),
        ("/srv/mirror/x.git", None),
        ("C:\\mirrors\\x", None),
        ("--upload-pack=touch /tmp/x", "starts with '-'"),
        ("ext::sh -c touch% /tmp/x", "transport"),
        ("fd::17", "transport"),
        ("ssh://-oProxyCommand=x/y", "host starting with '-'"),
        ("ftp://example.com/x", "scheme 'ftp'"),
        ("git@github.com:a/b.git", "scp-like"),
        ("relative/path", "neither a URL"),
        ("file://relative", "without an absolute path"),
        ("https://", "no host"),
        ("https://h/a b", "whitespace"),
        ("https://h/\n", "control"),
    ],
    ids=lambda v: v[:16] if isinstance(v, str) else str(v),
)
def test_origin_rules(value: str, problem: str | None) -> None:
    found = origin_problems(value)
    assert (found == []) if problem is None else any(problem in p for p in found), found


def test_other_rules() -> None:
    assert commit_problems("56e60cfdc8df89edd43f5ae507cd3fd7f5aafd03") == []
    assert commit_problems("--all") and commit_problems("HEAD") and commit_problems("abc")
    assert component_problems("blas_lib_generic.tar.zst") == []
    for bad in ("..", "a/b", "a\\b", "x\n", "-x", ""):
        assert component_problems(bad), bad
    assert (
        run_folder_problems("123-linux") == [] and run_folder_problems("owner-repo/1-linux") == []
    )
    for bad in ("../x", "a/b/c/d/e", "x y", "", "a/.."):
        assert run_folder_problems(bad), bad
    assert label_problems("azure-linux-scale-rocm") == []
    assert label_problems("${{ secrets.X }}") and label_problems("a b") and label_problems("")
    assert url_problems("https://s3.example.com", ("https",)) == []
    assert url_problems("javascript:alert(1)", ("https",))


@settings(max_examples=200)
@given(hostile_text(4))
def test_rules_never_raise(value: str) -> None:
    for check in (
        relative_path_problems,
        component_problems,
        origin_problems,
        run_folder_problems,
        commit_problems,
        label_problems,
    ):
        assert isinstance(check(value), list)
