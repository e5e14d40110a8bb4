"""The Store protocol, identical behaviour for LocalStore and S3Store (moto on loopback)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from action_lib.errors import OperationError
from action_lib.stores.base import Store

RUN = "5-linux"


def test_upload_invisible_until_commit_and_abort_leaves_nothing(
    make_store: Callable[..., Store],
) -> None:
    store = make_store()
    upload = store.begin_upload(RUN, "a_lib_generic.tar.zst")
    upload.file.write(b"x" * 1000)
    assert "a_lib_generic.tar.zst" not in store.listing(RUN)
    upload.commit()
    assert store.listing(RUN) == {"a_lib_generic.tar.zst": 1000}
    aborted = store.begin_upload(RUN, "b_lib_generic.tar.zst")
    aborted.file.write(b"y")
    aborted.abort()
    assert set(store.listing(RUN)) == {"a_lib_generic.tar.zst"}


def test_read_write_tail_download_delete(make_store: Callable[..., Store]) -> None:
    store = make_store()
    assert store.read_text(RUN, "nothing.sha256sum") is None
    store.write_text(RUN, "f.sha256sum", "abc\n")
    assert store.read_text(RUN, "f.sha256sum") == "abc\n"
    data = bytes(range(256)) * 100
    upload = store.begin_upload(RUN, "blob")
    upload.file.write(data)
    upload.commit()
    assert store.read_tail(RUN, "blob", len(data), 10) == data[-10:]
    assert store.read_tail(RUN, "blob", len(data), 10**6) == data
    out = io.BytesIO()
    seen: list[int] = []
    store.download(RUN, "blob", out, seen.append)
    assert out.getvalue() == data and sum(seen) == len(data)
    store.delete(RUN, "blob")
    store.delete(RUN, "blob")  # absent is fine
    assert "blob" not in store.listing(RUN)


def test_copy_runs_and_locations(make_store: Callable[..., Store]) -> None:
    store = make_store()
    store.write_text(RUN, "x", "1")
    store.copy(RUN, "x", "6-linux")
    store.write_text("owner-repo/7-windows", "y", "2")
    assert store.read_text("6-linux", "x") == "1"
    assert {"5-linux", "6-linux"} <= set(store.runs())
    assert store.location(RUN).rstrip("/").endswith("5-linux")
    assert store.listing("no-such-run") == {}


def test_download_of_absent_file_fails(make_store: Callable[..., Store]) -> None:
    with pytest.raises(OperationError):
        make_store().download(RUN, "absent", io.BytesIO())
