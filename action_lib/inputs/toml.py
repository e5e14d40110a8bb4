"""Reading TOML inputs: the one tomllib/tomli switch, line numbers of tables and keys (which
tomllib does not report), and a reader that collects located findings. Pure."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from action_lib.errors import Finding, FindingsError
from action_lib.inputs.suggest import unknown

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "SYNTAX",
    "LineIndex",
    "TomlReader",
    "dotted",
    "syntax_finding",
    "tomllib",
]

SYNTAX = "toml"  # the code of a TOML syntax error, in every input
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_HEADER = re.compile(r"^\s*\[\[?\s*(?P<path>[^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(rf"^\s*(?P<key>{_PART})\s*=")
_DOTTED_KEY = re.compile(rf"^\s*(?P<key>{_PART}(?:\s*\.\s*{_PART})+)\s*=")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')
_AT = re.compile(r"\s*\(at (?:line (?P<line>\d+), column \d+|end of document)\)\s*$")


def _split_dotted(path: str) -> tuple[str, ...]:
    parts: list[str] = []
    buf = ""
    quote = ""
    for ch in path:
        if quote:
            if ch == quote:
                quote = ""
            else:
                buf += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(buf.strip())
            buf = ""
        else:
            buf += ch
    parts.append(buf.strip())
    return tuple(parts)


def _code_part(raw: str) -> str:
    """The line with string contents and any trailing comment removed (fast path)."""
    if '"' not in raw and "'" not in raw:
        return raw.split("#", 1)[0]
    return _STRING.sub('""', raw).split("#", 1)[0]


def dotted(*key: str) -> str:
    """A key path as TOML writes it: ``components.lib."a/stage"``."""
    return ".".join(part if _BARE.match(part) else f'"{part}"' for part in key)


class LineIndex:
    """Maps a table path (and optionally a key in it) to its 1-based line number.

    Built on the first lookup: a valid input never pays for it.
    """

    def __init__(self, text: str) -> None:
        self._text: str | None = text
        self._lines: dict[tuple[str, ...], int] = {}

    def _build(self, text: str) -> None:
        lines = self._lines
        table: tuple[str, ...] = ()
        depth = 0  # bracket depth of a multi-line value; keys inside it are not table keys
        for number, raw in enumerate(text.splitlines(), start=1):
            line = _code_part(raw)
            if depth == 0:
                key = _KEY.match(raw)
                if key is not None:
                    lines.setdefault((*table, key.group("key").strip("\"'")), number)
                else:
                    header = _HEADER.match(raw)
                    if header:
                        table = _split_dotted(header.group("path"))
                        for end in range(1, len(table) + 1):
                            lines.setdefault(table[:end], number)
                        continue
                    dotted = _DOTTED_KEY.match(raw) if "." in raw else None
                    if dotted:  # a dotted key defines every table on its path
                        parts = _split_dotted(dotted.group("key"))
                        for end in range(1, len(parts) + 1):
                            lines.setdefault((*table, *parts[:end]), number)
            depth += line.count("[") + line.count("{") - line.count("]") - line.count("}")
            depth = max(depth, 0)

    def line(self, *path: str) -> int:
        """The line of ``path``, else of its longest known prefix, else 0."""
        if self._text is not None:
            text, self._text = self._text, None
            self._build(text)
        for end in range(len(path), 0, -1):
            found = self._lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return 0


def syntax_finding(error: Exception, text: str, path: str) -> Finding:
    """The one finding for a TOML syntax error: code ``toml``, at the error's line."""
    reason = str(error)
    line = 0
    at = _AT.search(reason)
    if at:
        reason = reason[: at.start()]
        line = int(at.group("line")) if at.group("line") else len(text.splitlines()) or 1
    return Finding(path, line, SYNTAX, f"malformed TOML: {reason}", "fix the syntax")


class TomlReader:
    """One TOML input being read: its data, its line index and the findings so far.

    A syntax error becomes the only finding (code ``toml``, at its line) and leaves ``data``
    empty; ``malformed`` tells the caller to check nothing else.
    """

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines = LineIndex(text)
        self.findings: list[Finding] = []
        self.malformed = False
        try:
            self.data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            self.data = {}
            self.malformed = True
            self.findings.append(syntax_finding(exc, text, path))

    def line(self, *key: str) -> int:
        """The line of a table or key (or of its closest parent), else 0."""
        return self.lines.line(*key)

    def add(self, code: str, message: str, *key: str, hint: str = "") -> None:
        """A finding located at ``key`` (a table or key path; none for the whole file)."""
        self.findings.append(
            Finding(self.path, self.lines.line(*key), code, message, hint, key=dotted(*key))
        )

    def unknown(
        self,
        code: str,
        kind: str,
        name: str,
        choices: Iterable[str],
        *key: str,
        within: str = "",
        listing: str = "",
        shown: str = "",
    ) -> None:
        """An "unknown <kind> '<name>'" finding with a did-you-mean hint, located at ``key``."""
        found = unknown(kind, name, choices, within=within, listing=listing, shown=shown)
        self.add(code, found.message, *key, hint=found.hint)

    def unknown_keys(
        self,
        table: Mapping[str, object],
        allowed: Iterable[str],
        *key: str,
        code: str = "unknown-key",
        listing: str = "known keys",
    ) -> None:
        """A finding for every key of ``table`` (at ``key``) that is not in ``allowed``."""
        choices = tuple(allowed)
        within = f"in [{'.'.join(key)}]" if key else ""
        for name in table:
            if name not in choices:
                self.unknown(code, "key", name, choices, *key, name, within=within, listing=listing)

    def table(self, value: object, *key: str) -> dict[str, Any]:
        """``value`` when it is a table, else a ``type`` finding at ``key`` and ``{}``."""
        if isinstance(value, dict):
            return value
        self.add("type", f"[{'.'.join(key)}] must be a table", *key)
        return {}

    def raise_findings(self) -> None:
        """Raise FindingsError listing every finding, if there is any."""
        if self.findings:
            raise FindingsError(self.findings)
