"""GitHub Actions I/O through actions-toolkit: inputs, outputs, annotations, groups, summary.

Also the guard in front of stdout and stderr (:func:`guard_output`): every line rockshard
prints that is not one of its own workflow commands is passed through
:class:`~action_lib.inputs.untrusted.CommandGuard`, so text from outside can never start one.
rockshard's own commands (annotations, groups, outputs, stop-commands) are written as trusted.
"""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO, cast

from action_lib.errors import Finding
from action_lib.inputs.untrusted import CommandGuard, escape, stop_commands
from action_lib.settings import environment

# actions_toolkit pulls in requests (about 0.1 s): it is imported where it is used, so commands
# that run outside Actions do not pay for it.

SUMMARY_LIMIT = 1024 * 1024  # GitHub refuses a step summary larger than 1 MiB
ANNOTATION_LIMIT = 4000  # characters of an annotation's message we send
_local = threading.local()


class GuardedStream:
    """A text stream whose untrusted writes cannot start a workflow command (see module doc)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.guard = CommandGuard()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        """Write ``text``: as is inside :func:`trusted`, else neutralised."""
        with self._lock:
            if getattr(_local, "trusted", False):
                self.guard.passed(text)
                self.stream.write(text)
            else:
                self.stream.write(self.guard.feed(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        """Write each of ``lines``."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def guard_output() -> Iterator[None]:
    """Put a :class:`GuardedStream` in front of ``sys.stdout`` and ``sys.stderr`` (once)."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, GuardedStream):
        sys.stdout = cast(TextIO, GuardedStream(sys.stdout))
    if not isinstance(sys.stderr, GuardedStream):
        sys.stderr = cast(TextIO, GuardedStream(sys.stderr))
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, GuardedStream):
                stream.stream.flush()
        sys.stdout, sys.stderr = saved


@contextmanager
def trusted() -> Iterator[None]:
    """Writes in this block (this thread) are rockshard's own workflow commands: not guarded."""
    before = getattr(_local, "trusted", False)
    _local.trusted = True
    try:
        yield
    finally:
        _local.trusted = before


def in_actions() -> bool:
    """True inside a GitHub Actions (or act) step."""
    return environment.get("GITHUB_ACTIONS") == "true"


def get_input(name: str) -> str:
    """An action input (``INPUT_<NAME>``), trimmed; "" when not given."""
    from actions_toolkit import core

    return str(core.get_input(name))


def set_output(name: str, value: str) -> None:
    """A step output; multi-line values use GITHUB_OUTPUT's delimiter form."""
    from actions_toolkit import core

    with trusted():
        core.set_output(name, value)


def _annotate(kind: str, message: str, finding: Finding | None = None) -> None:
    from actions_toolkit.command import issue_command

    properties: dict[str, str | int] = {}
    if finding is not None:
        properties = {"file": escape(finding.file), "title": finding.code}
        if finding.line > 0:
            properties["line"] = finding.line
    # issue_command directly: core.error would also emit empty endLine/col properties.
    with trusted():
        issue_command(kind, properties, escape(message, ANNOTATION_LIMIT))


def error(message: str, finding: Finding | None = None) -> None:
    """An ``::error`` annotation, located at the finding's file and line when given. The
    message is escaped: it stays one line whatever it quotes."""
    _annotate("error", message, finding)


def warning(message: str, details: Sequence[str] = ()) -> None:
    """``rockshard: warning: <message>`` on stderr, then each of ``details`` on a line of its
    own (all escaped), and a ``::warning`` annotation in Actions."""
    sys.stderr.write(f"rockshard: warning: {escape(message)}\n")
    for line in details:
        sys.stderr.write(f"  {escape(line)}\n")
    if in_actions():
        _annotate("warning", "; ".join([message, *details]))


def stop_token() -> str:
    """A fresh random token for ``::stop-commands::``."""
    return secrets.token_hex(16)


def write_listing(text: str, stream: TextIO | None = None) -> None:
    """Print a listing of outside data; in Actions, between ``::stop-commands::<token>`` and
    ``::<token>::`` (a fresh token), so no line of it can act as a workflow command."""
    out = stream or sys.stdout
    if not in_actions() or not text:
        out.write(text)
        return
    body = CommandGuard().feed(text)
    with trusted():
        out.write(stop_commands(body, stop_token()))


def append_summary(markdown: str) -> None:
    """Append markdown to the job summary (``GITHUB_STEP_SUMMARY``), when there is one; what
    would take it past GitHub's 1 MiB is left out, with a note saying so."""
    target = environment.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    path = Path(target)
    text = markdown.rstrip("\n") + "\n\n"  # a blank line ends a table
    used = path.stat().st_size if path.is_file() else 0
    if used + len(text.encode("utf-8")) > SUMMARY_LIMIT:
        note = "\n\n(rockshard: the rest is left out: job summaries hold at most 1 MiB)\n\n"
        room = max(0, SUMMARY_LIMIT - used - len(note))
        kept = text.encode("utf-8")[:room].decode("utf-8", "ignore")
        text = kept[: kept.rfind("\n") + 1] + note if room else ""
    if text:
        with path.open("a", encoding="utf-8", newline="\n") as stream:
            stream.write(text)


@contextmanager
def group(name: str) -> Iterator[None]:
    """A collapsible log group in Actions; a plain heading elsewhere."""
    if in_actions():
        from actions_toolkit import core

        with trusted():
            core.start_group(escape(name))
        try:
            yield
        finally:
            with trusted():
                core.end_group()
    else:
        yield
