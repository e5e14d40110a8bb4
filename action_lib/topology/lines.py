"""Line numbers for TOML tables and keys, which tomllib does not report."""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*\[\[?\s*(?P<path>[^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*(?P<key>[A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""")


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


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')


def _code_part(raw: str) -> str:
    """The line with string contents and any trailing comment removed (fast path)."""
    if '"' not in raw and "'" not in raw:
        return raw.split("#", 1)[0]
    return _STRING.sub('""', raw).split("#", 1)[0]


class LineIndex:
    """Maps a table path (and optionally a key in it) to its 1-based line number."""

    def __init__(self, text: str) -> None:
        self._text: str | None = text
        self._lines: dict[tuple[str, ...], int] = {}

    def _build(self, text: str) -> None:
        table: tuple[str, ...] = ()
        depth = 0  # bracket depth of a multi-line value; keys inside it are not table keys
        for number, raw in enumerate(text.splitlines(), start=1):
            line = _code_part(raw)
            if depth == 0:
                header = _HEADER.match(raw)
                if header and not _KEY.match(raw):
                    table = _split_dotted(header.group("path"))
                    for end in range(1, len(table) + 1):
                        self._lines.setdefault(table[:end], number)
                    continue
                key = _KEY.match(raw)
                if key:
                    name = key.group("key").strip("\"'")
                    self._lines.setdefault((*table, name), number)
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
