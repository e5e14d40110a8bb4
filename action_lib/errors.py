"""The one error hierarchy of rockshard.

Library code raises these; only the CLI turns them into exit statuses:

- ``0`` success;
- ``1`` an operation failed (a store, git, cmake; a stale generated file; an internal error);
- ``2`` the input is invalid (a topology, a descriptor, an argument, an unknown name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID_INPUT = 2


@dataclass(frozen=True)
class Finding:
    """One located problem in an input file; ``key`` is the dotted key path, when known."""

    file: str
    line: int
    code: str
    message: str
    hint: str = ""
    key: str = field(default="", compare=False)

    def format(self) -> str:
        """Render as ``file:line: error[code]: message (hint)``."""
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        text = f"{where}: error[{self.code}]: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def sort_key(self) -> tuple[str, int, str, str]:
        """Deterministic order: by file, line, code, message."""
        return (self.file, self.line, self.code, self.message)


class RockshardError(Exception):
    """Base of every error rockshard reports to a user."""

    exit_code = EXIT_FAILURE

    def lines(self) -> list[str]:
        """The message, one line per problem."""
        return [str(self)]


class InputError(RockshardError):
    """The user's input (file, argument, name) is invalid."""

    exit_code = EXIT_INVALID_INPUT


class FindingsError(InputError):
    """An input file has one or more located findings."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = tuple(sorted(findings, key=Finding.sort_key))
        first = self.findings[0].format() if self.findings else "invalid input"
        more = len(self.findings) - 1
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))

    def lines(self) -> list[str]:
        return [f.format() for f in self.findings]


class OperationError(RockshardError):
    """An operation on the outside world failed (store, git, cmake, network)."""

    exit_code = EXIT_FAILURE


class StaleError(RockshardError):
    """A generated file differs from what would be generated now."""

    exit_code = EXIT_FAILURE
