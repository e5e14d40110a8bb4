"""The one list parser for names given as text (flags, action inputs, CMake variables). Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Names (stages, artifacts, families, components, source sets) never hold a space, so a space
# separates too: CMake lists, workflow inputs and people write all three.
_SEPARATORS = re.compile(r"[,;\s]+")


def parse_list(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """The items of a comma, semicolon or whitespace separated list, or of several such texts.

    Items are trimmed, empty items dropped, duplicates dropped (the first kept), order kept:
    ``" a ; b,a ,"`` gives ``("a", "b")``. Usable as an argparse ``type=``.
    """
    if value is None:
        return ()
    texts = [value] if isinstance(value, str) else value
    seen: dict[str, None] = {}
    for text in texts:
        for item in _SEPARATORS.split(text):
            if item:
                seen.setdefault(item, None)
    return tuple(seen)
