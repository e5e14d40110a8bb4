"""The hostile-input suite's tools: names built to hurt, a model of how the Actions runner reads
a step's output, and the tally of what was tried.

The runner model follows actions/runner's ``ActionCommand``: lines end at ``\\n`` or ``\\r``;
a line is a command when, after leading whitespace, it starts with ``::name ...::`` (or holds
``##[name ...]`` anywhere); ``::stop-commands::<token>`` turns commands off until a line
``::<token>::``. It is written here from the runner's rules, not from rockshard's guard.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from action_lib.cli.main import main
from action_lib.inputs.untrusted import escape

# Every hostile command carries PWN in its data: rockshard's own annotations never start
# their data with it, and it never issues the other commands.
PAYLOADS = (
    "::error::PWN",
    "::warning file=x,line=1::PWN",
    "::add-mask::PWN",
    "::set-output name=pwn::PWN",
    "::set-env name=PWN::PWN",
    "::stop-commands::PWN",
    "::echo::on",
    "##[error]PWN",
    "##[add-mask]PWN",
    "%0A::error::PWN",
    " \t::notice::PWN",
)
BREAKS = ("\n", "\r", "\r\n", "\x85", "\u2028", "\x0b", "\x0c", "%0A", "%0D%0A", "\n  ")
SPECIAL = (
    "..",
    "../..",
    "/etc/passwd",
    "\\\\server\\share",
    "C:\\Windows",
    "C:",
    "CON",
    "nul.txt",
    "COM1",
    "LPT9",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\udcff\udcfe",  # undecodable bytes, as os.fsdecode gives them
    "\ufffd",
    "-rf",
    "--upload-pack=touch PWN",
    "ext::sh -c PWN",
    "`PWN`",
    "|a|b|",
    "<script>PWN</script>",
    "**PWN**",
    "$(PWN)",
    "${{ secrets.PWN }}",
    "a" * 4096,
)
NEVER_OURS = frozenset(
    {"add-mask", "set-env", "add-path", "save-state", "echo", "debug", "notice", "add-matcher"}
)


SHA = "0123456789abcdef0123456789abcdef01234567"
# Examples per test: the default suite stays within its time budget; --slow runs SOAK.
QUICK = settings(max_examples=100, deadline=None)
SERVED = settings(  # tests using the (function-scoped) fake GitHub server
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SOAK = settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def hostile_text(max_parts: int = 4) -> st.SearchStrategy[str]:
    """A string glued from payloads, line breaks, special names and random text."""
    part = st.one_of(
        st.sampled_from(PAYLOADS),
        st.sampled_from(BREAKS),
        st.sampled_from(SPECIAL),
        st.text(max_size=6),
    )
    return st.lists(part, min_size=1, max_size=max_parts).map("".join)


def hostile_name(max_parts: int = 3) -> st.SearchStrategy[str]:
    """A non-empty hostile string that a file system can hold as one name (no '/', no NUL,
    not '.' or '..', at most 200 UTF-8 bytes)."""
    return (
        hostile_text(max_parts)
        .map(lambda s: s.replace("/", "_").replace("\x00", "_"))
        .filter(lambda s: s not in ("", ".", ".."))
        .filter(lambda s: len(s.encode("utf-8", "surrogateescape")) <= 200)
    )


@dataclass(frozen=True)
class Command:
    """A workflow command the runner would run."""

    name: str
    data: str
    line: str


def _unescape(data: str) -> str:
    return data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def runner_commands(text: str) -> list[Command]:
    """The workflow commands a runner would run reading ``text`` (stdout or stderr)."""
    out: list[Command] = []
    stopped = ""
    for line in re.split(r"\r\n|\r|\n", text):
        if stopped:
            if line.strip() == f"::{stopped}::":
                stopped = ""
            continue
        body = line.lstrip()  # .NET TrimStart; Python's whitespace is a superset
        if body.startswith("::"):
            end = body.find("::", 2)
            if end > 2:
                name = body[2:end].split(" ")[0]
                data = _unescape(body[end + 2 :])
                out.append(Command(name, data, line))
                if name == "stop-commands":
                    stopped = data
                continue
        start = line.find("##[")
        if start >= 0 and "]" in line[start:]:
            info = line[start + 3 : line.index("]", start)]
            out.append(Command(info.split(" ")[0], line[line.index("]", start) + 1 :], line))
    return out


def injections(text: str, *, in_actions: bool = False) -> list[Command]:
    """Commands in ``text`` that rockshard did not issue. Outside Actions rockshard issues
    none; in Actions, only annotations and groups (data never starting with PWN) and
    stop-commands blocks with a 32-hex-digit token."""
    found = runner_commands(text)
    if not in_actions:
        return found
    bad = []
    for cmd in found:
        if (
            cmd.name in NEVER_OURS
            or "##[" in cmd.line
            or cmd.data.startswith("PWN")
            or (cmd.name == "stop-commands" and not re.fullmatch(r"[0-9a-f]{32}", cmd.data))
            or cmd.name not in ("error", "warning", "group", "endgroup", "stop-commands")
        ):
            bad.append(cmd)
    return bad


@dataclass
class Count:
    """What one entry point was fed and what came of it."""

    inputs: int = 0
    findings: int = 0
    injections: int = 0
    escapes: int = 0
    crashes: int = 0


@dataclass
class Tally:
    """Counts per entry point, printed at the end of the module's tests."""

    counts: dict[str, Count] = field(default_factory=dict)

    def __getitem__(self, entry: str) -> Count:
        return self.counts.setdefault(entry, Count())

    def lines(self) -> list[str]:
        """A table: entry point, inputs, findings, injections, escapes, crashes."""
        rows = [["entry point", "inputs", "findings", "injections", "escapes", "crashes"]]
        for name, c in sorted(self.counts.items()):
            values = (c.inputs, c.findings, c.injections, c.escapes, c.crashes)
            rows.append([name, *(str(v) for v in values)])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]


@dataclass(frozen=True)
class Ran:
    """One CLI run: status, stdout, stderr."""

    code: int
    out: str
    err: str


def run_cli(argv: list[str], env: Mapping[str, str] | None = None) -> Ran:
    """``main(argv)`` with stdout and stderr captured (no pytest fixture: usable in @given)."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.object(sys, "stdout", out),
        mock.patch.object(sys, "stderr", err),
        mock.patch.dict(os.environ, dict(env or {})),
    ):
        os.environ.pop("ROCKSHARD_DEBUG", None)
        code = main(argv)
    return Ran(code, out.getvalue(), err.getvalue())


def check_run(count: Count, ran: Ran, *, in_actions: bool = False, summary: str = "") -> None:
    """No traceback and no injected command, in stdout, stderr or the job summary."""
    crashed = ran.code not in (0, 1, 2) or "internal error" in ran.err or "Traceback" in ran.err
    injected = injections(ran.out, in_actions=in_actions) + injections(ran.err)
    injected += injections(summary)
    count.crashes += crashed
    count.injections += len(injected)
    assert not crashed, ran.err
    assert not injected, (injected, ran.out, ran.err)


def check_text(count: Count, *texts: str) -> None:
    """No line of any of ``texts`` is a workflow command."""
    injected = [c for t in texts for c in injections(t)]
    count.injections += len(injected)
    assert not injected, injected


def actions_env(tmp: Path) -> dict[str, str]:
    """The variables of an Actions step, with a fresh output file and job summary."""
    (tmp / "output").write_text("", encoding="utf-8")
    (tmp / "summary.md").write_text("", encoding="utf-8")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
    }


def escape_line(line: str) -> str:
    """A line as the CLI prints it (``rockshard: <escaped>``)."""
    return f"rockshard: {escape(line)}\n"


def snapshot(root: Path, skip: tuple[Path, ...] = ()) -> set[str]:
    """Every path under ``root`` except those under ``skip`` (to see writes outside them)."""
    out: set[str] = set()
    for path in root.rglob("*"):
        if not any(path == s or s in path.parents for s in skip):
            out.add(path.relative_to(root).as_posix())
    return out


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """The module's tally; its table is printed when the module's tests are done."""
    counts = Tally()
    yield counts
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not counts.counts:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(f"hostile inputs ({request.module.__name__}):")
        for line in counts.lines():
            reporter.write_line("  " + line)
