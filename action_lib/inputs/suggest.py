"""Did-you-mean hints and the one way to say that a name is unknown. Pure."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


def suggest(word: str, choices: Iterable[str]) -> str:
    """A "did you mean" hint for ``word`` among ``choices``, or ""."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


@dataclass(frozen=True)
class Unknown:
    """An unknown name, as a message and a hint (for a Finding) or as one line (``str()``)."""

    message: str
    hint: str = ""
    close: bool = False  # the hint is a did-you-mean, not a listing

    def __str__(self) -> str:
        """``message: did you mean 'x'?``, ``message (listing)`` or just ``message``."""
        if not self.hint:
            return self.message
        return f"{self.message}: {self.hint}" if self.close else f"{self.message} ({self.hint})"


def unknown(
    kind: str,
    name: str,
    choices: Iterable[str],
    *,
    within: str = "",
    listing: str = "",
    shown: str = "",
) -> Unknown:
    """``unknown <kind> '<name>'[ <within>]`` with a did-you-mean hint among ``choices``.

    Without a close match the hint lists the choices after ``listing`` (``"stages"`` gives
    ``stages: a, b``), in the order given; with no ``listing`` there is no hint. ``shown``
    replaces the quoted name in the message (``[table]`` for a TOML table).
    """
    options = list(choices)
    message = f"unknown {kind} " + (shown or f"'{name}'") + (f" {within}" if within else "")
    close = suggest(name, options)
    if close:
        return Unknown(message, close, close=True)
    return Unknown(message, f"{listing}: {', '.join(options)}" if listing else "")
