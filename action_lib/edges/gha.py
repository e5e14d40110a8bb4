"""GitHub Actions I/O through actions-toolkit: inputs, outputs, annotations, groups, summary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from action_lib.errors import Finding
from action_lib.settings import environment

# actions_toolkit pulls in requests (about 0.1 s): it is imported where it is used, so commands
# that run outside Actions do not pay for it.


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

    core.set_output(name, value)


def error(message: str, finding: Finding | None = None) -> None:
    """An ``::error`` annotation, located at the finding's file and line when given."""
    from actions_toolkit.command import issue_command

    properties: dict[str, str | int] = {}
    if finding is not None:
        properties = {"file": finding.file, "title": finding.code}
        if finding.line > 0:
            properties["line"] = finding.line
    # issue_command directly: core.error would also emit empty endLine/col properties.
    issue_command("error", properties, message)


def append_summary(markdown: str) -> None:
    """Append markdown to the job summary (``GITHUB_STEP_SUMMARY``), when there is one."""
    target = environment.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8", newline="\n") as stream:
            stream.write(markdown.rstrip("\n") + "\n\n")  # a blank line ends a table


@contextmanager
def group(name: str) -> Iterator[None]:
    """A collapsible log group in Actions; a plain heading elsewhere."""
    if in_actions():
        from actions_toolkit import core

        core.start_group(name)
        try:
            yield
        finally:
            core.end_group()
    else:
        yield
