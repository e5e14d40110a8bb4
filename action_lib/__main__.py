"""``python -m action_lib``: the same as the ``rockshard`` console script."""

from action_lib.cli.main import entry

entry()
