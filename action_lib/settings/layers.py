"""Layered settings: each value from the first layer that has it, remembering which.

The order is fixed and the same for every command:
``flag > action input > environment > settings file > default``. A flag counts as given when
its argparse value is not None (settings-backed flags default to None); an action input or an
environment variable counts as given when it is not empty.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from action_lib.errors import InputError

T = TypeVar("T")


class Source(enum.Enum):
    """Where a setting's value came from, in precedence order."""

    FLAG = "flag"
    INPUT = "action input"
    ENV = "environment"
    FILE = "settings file"
    DEFAULT = "default"


@dataclass(frozen=True)
class Setting(Generic[T]):
    """A value and where it came from (``origin``: the flag, variable or file:line)."""

    value: T
    source: Source
    origin: str = ""

    def describe(self) -> str:
        """``value (from <source> <origin>)``, for ``--explain``-style output and messages."""
        where = f"{self.source.value} {self.origin}".strip()
        return f"{self.value!s} (from {where})"


def _identity(text: str) -> str:
    return text


@dataclass(frozen=True)
class Layers:
    """The layers one command's settings are resolved from."""

    flags: Mapping[str, object] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)  # action inputs, by input name
    environ: Mapping[str, str] = field(default_factory=dict)
    file: Mapping[str, tuple[object, str]] = field(default_factory=dict)  # key -> (value, where)

    def resolve(
        self,
        default: T,
        *,
        flag: str | None = None,
        input: str | None = None,
        env: Sequence[str] = (),
        file: str | None = None,
        parse: Callable[[str], T] | None = None,
    ) -> Setting[T]:
        """The value of one setting: ``flag`` (an argparse dest), action ``input``, the first
        set ``env`` variable, the settings ``file`` key, else ``default``.

        Text from inputs and the environment is converted with ``parse`` (InputError naming
        its origin when it fails); flag values are already converted by argparse.
        """
        if flag is not None:
            value = self.flags.get(flag)
            if value is not None:
                given: T = value  # type: ignore[assignment]
                return Setting(given, Source.FLAG, "--" + flag.replace("_", "-"))
        convert: Callable[[str], T] = parse or _identity  # type: ignore[assignment]
        if input is not None:
            text = self.inputs.get(input, "").strip()
            if text:
                return Setting(_parse(convert, text, f"input '{input}'"), Source.INPUT, input)
        for name in env:
            text = self.environ.get(name, "")
            if text:
                return Setting(_parse(convert, text, name), Source.ENV, name)
        if file is not None and file in self.file:
            value, where = self.file[file]
            return Setting(value, Source.FILE, where)  # type: ignore[arg-type]
        return Setting(default, Source.DEFAULT)


def _parse(convert: Callable[[str], T], text: str, origin: str) -> T:
    try:
        return convert(text)
    except (ValueError, InputError) as exc:
        raise InputError(f"{origin}: invalid value '{text}': {exc}") from None


def action_inputs(environ: Mapping[str, str], names: Sequence[str]) -> dict[str, str]:
    """Action inputs as the runner passes them (``INPUT_<NAME>``, upper case, '-' kept).

    actions-toolkit's ``get_input`` reads the same variables; reading them from the given
    mapping keeps this layer free of the process environment.
    """
    out: dict[str, str] = {}
    for name in names:
        value = environ.get("INPUT_" + name.replace(" ", "_").upper(), "")
        if value.strip():
            out[name] = value.strip()
    return out
