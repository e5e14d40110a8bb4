"""A push or fetch in its own process, for the kill -9 tests: ``python -m tests.kill_child
push|fetch STORE RUN DIR [ENDPOINT]``. S3 uses small multipart parts so that a kill can land
between parts. Prints nothing; the exit status says whether it finished."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from action_lib.artifacts.fetch import FetchOptions, fetch
from action_lib.artifacts.names import parse_stem
from action_lib.artifacts.plan import present
from action_lib.artifacts.push import push
from action_lib.stores.base import Store
from action_lib.stores.local import LocalStore
from action_lib.stores.s3 import MB, S3Store


def open_test_store(url: str, endpoint: str | None) -> Store:
    """The store of a kill test: S3 with 5 MB parts, or a local directory."""
    if url.startswith("s3://"):
        return S3Store(
            url, endpoint_url=endpoint, jobs=2, multipart_threshold=5 * MB, min_part=5 * MB
        )
    return LocalStore(Path(url))


def main(argv: list[str]) -> int:
    verb, url, run, directory = argv[:4]
    store = open_test_store(url, argv[4] if len(argv) > 4 else None)
    if verb == "push":
        names = json.loads((Path(directory) / "dirs.json").read_text())
        dirs = [(parse_stem(stem), Path(path)) for stem, path in names]
        push(store, run, dirs, jobs=2)
    else:
        remotes = list(present(store.listing(run)).values())
        fetch(store, run, remotes, Path(directory), FetchOptions(layout="bootstrap", jobs=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
