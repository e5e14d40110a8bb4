"""Printing text that came from outside (a change, a store, an API) without letting it act. Pure.

A GitHub Actions runner reads every line a step prints to stdout or stderr, and runs a line as
a *workflow command* when, after leading whitespace, it starts with ``::`` (``::error::``,
``::add-mask::``, ``::stop-commands::``...), or when it holds ``##[`` anywhere (the old
syntax). The runner splits lines at ``\\n`` and at ``\\r``. A file named ``a\\n::error::x``
printed as is becomes a command. Every value from outside goes through one of these helpers
where it is printed:

- :func:`escape` for logs and messages: control characters (newlines included), bidi
  controls and lone surrogates become visible escapes (``\\n``, ``\\x1b``, ``\\u202e``), and
  ``::`` and ``##[`` are broken (``:\\:``, ``##\\[``), so the value stays on its line and can
  never start a command, wherever it lands in the line;
- :func:`md` and :func:`md_code` for job summaries: the same, then markdown and HTML
  neutralised with character references, so a value is shown, never rendered;
- :func:`html` for HTML reports;
- :func:`stop_commands` wraps a long listing in ``::stop-commands::<token>`` ... ``::<token>::``
  (the token comes from the caller: it must be random, see :mod:`action_lib.edges.gha`);
- :class:`CommandGuard` is the last line of defence the CLI puts in front of stdout and stderr:
  whatever a printed line holds, it cannot start a command.

Backslashes are not escaped (Windows paths stay readable), so an escape is for people, not
for parsing back.
"""

from __future__ import annotations

import re

__all__ = [
    "CommandGuard",
    "escape",
    "html",
    "md",
    "md_code",
    "stop_commands",
]

# Characters that never print as themselves: C0/C1 controls (line breaks, ESC, NUL, NEL),
# Unicode line and paragraph separators, bidi and zero-width format characters, and lone
# surrogates (undecodable bytes; writing one to a UTF-8 stream raises).
UNSAFE_CHARS = (
    "\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
)
_UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_COLONS = re.compile(r":(?=:)")
_V1 = "##["
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
# Characters that mean something to markdown or HTML, shown through character references.
_MARKUP = re.compile(r"[&<>\"'|\\`*_\[\](){}#!~$:@]")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,}$")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(value: object, limit: int | None = None) -> str:
    """``value`` as one printable line that cannot start a workflow command.

    With ``limit``, a longer value is cut to ``limit`` characters and ends with how many
    were left out.
    """
    text = value if isinstance(value, str) else str(value)
    cut = ""
    if limit is not None and len(text) > limit:
        cut = f"...(+{len(text) - limit} characters)"
        text = text[:limit]
    text = _UNSAFE.sub(_visible, text)
    if "::" in text:
        text = _COLONS.sub(":\\\\", text)
    if _V1 in text:
        text = text.replace(_V1, "##\\[")
    return text + cut


def md(value: object, limit: int | None = None) -> str:
    """``value`` for a job summary (markdown with HTML): :func:`escape`, then every character
    markdown or HTML could act on as a character reference (``|`` becomes ``&#124;``), so it
    can neither render nor split a table cell."""
    text = _MARKUP.sub(lambda m: f"&#{ord(m.group())};", escape(value, limit))
    if text[:1] in ("-", "+", "="):  # a list item or a heading underline at a line start
        text = f"&#{ord(text[0])};" + text[1:]
    return text


def md_code(value: object, limit: int | None = None) -> str:
    """``value`` in code font for a job summary (``<code>``, escaped like :func:`md`)."""
    return f"<code>{md(value, limit)}</code>"


def html(value: object, limit: int | None = None) -> str:
    """``value`` for HTML text or a quoted attribute: :func:`escape`, then ``&<>"'``."""
    text = escape(value, limit)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


def stop_commands(text: str, token: str) -> str:
    """``text`` between ``::stop-commands::<token>`` and ``::<token>::``: the runner runs no
    workflow command in between. ``token`` must be random (16+ letters, digits, ``-``, ``_``)
    and must not end the block early."""
    if not _TOKEN.match(token):
        raise ValueError("a stop-commands token needs 16 or more letters, digits, '-' or '_'")
    body = text if not text or text.endswith("\n") else text + "\n"
    end = f"::{token}::"
    if any(line.strip() == end for line in _LINE_BREAK.split(body)):
        raise ValueError("the text holds the stop-commands token")
    return f"::stop-commands::{token}\n{body}{end}\n"


class CommandGuard:
    """Neutralises, in a stream of text written piece by piece, every line that would start a
    workflow command: ``::`` after leading whitespace gets a backslash (``:\\:``), ``##[``
    anywhere becomes ``##\\[``, and lone surrogates become ``\\udcxx``.

    State crosses :meth:`feed` calls (a ``:`` written alone, then ``:error::x``), so pieces are
    never held back: a live progress line still shows at once. Everything else passes
    unchanged (colours, tabs, carriage returns).
    """

    def __init__(self) -> None:
        self._line = "blank"  # the line so far: "blank" (whitespace), "colon" (+ one ':'), "text"
        self._tail = ""  # the last two characters written, for a '##[' split across pieces
        self.neutralised = 0  # how many commands were broken

    def feed(self, text: str) -> str:
        """``text`` made safe to write after everything fed before."""
        if _SURROGATE.search(text):
            text = _SURROGATE.sub(_visible, text)
        pieces = _LINE_BREAK.split(text)
        out: list[str] = []
        for n, piece in enumerate(pieces):
            if n % 2:  # a line break
                out.append(piece)
                self._line = "blank"
                self._tail = piece[-1]
                continue
            if piece:
                piece = self._segment(piece)
                self._tail = (self._tail + piece)[-2:]
                out.append(piece)
        return "".join(out)

    def passed(self, text: str) -> None:
        """Note that ``text`` was written unchanged (rockshard's own command): follow it."""
        for n, piece in enumerate(_LINE_BREAK.split(text)):
            if n % 2:
                self._line, self._tail = "blank", piece[-1]
            elif piece:
                if self._line == "blank" and piece.strip():
                    self._line = "colon" if piece.strip() == ":" else "text"
                elif self._line == "colon":
                    self._line = "text"
                self._tail = (self._tail + piece)[-2:]

    def _segment(self, piece: str) -> str:
        joined = self._tail + piece
        if _V1 in joined:
            fixed = joined.replace(_V1, "##\\[")
            self.neutralised += joined.count(_V1)
            piece = fixed[len(self._tail) :]
        if self._line == "colon":
            if piece.startswith(":"):
                self.neutralised += 1
                piece = "\\" + piece
            self._line = "text"
        elif self._line == "blank":
            body = piece.lstrip()
            if not body:
                return piece
            lead = piece[: len(piece) - len(body)]
            if body.startswith("::"):
                self.neutralised += 1
                piece = lead + ":\\" + body[1:]
                self._line = "text"
            elif body == ":":
                self._line = "colon"
            else:
                self._line = "text"
        return piece
