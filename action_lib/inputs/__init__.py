"""Reading user inputs: TOML files with located findings, did-you-mean hints, name lists. Pure."""

from action_lib.inputs.lists import parse_list
from action_lib.inputs.suggest import Unknown, suggest, unknown
from action_lib.inputs.toml import SYNTAX, LineIndex, TomlReader, dotted, syntax_finding

__all__ = [
    "SYNTAX",
    "LineIndex",
    "TomlReader",
    "Unknown",
    "dotted",
    "parse_list",
    "suggest",
    "syntax_finding",
    "unknown",
]
