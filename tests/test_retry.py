"""The one retry helper (action_lib.edges.retry) and its users' edges: per-kind budgets,
reports, server-requested waits; the process runner's retries; store URL schemes; gc."""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

import pytest

from action_lib.cli.main import main
from action_lib.edges import proc
from action_lib.edges.retry import (
    Budget,
    RetriesExhaustedError,
    RetryEvent,
    RetryPolicy,
    Transient,
    retry,
    stderr_reporter,
)
from action_lib.errors import InputError
from action_lib.stores.base import open_store
from action_lib.stores.local import TEMP_MARK, LocalStore, temp_path


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


class RefusedError(Exception):
    pass


class ThrottledError(Exception):
    pass


def _classify(exc: BaseException) -> Transient | None:
    if isinstance(exc, RefusedError):
        return Transient("refused")
    if isinstance(exc, ThrottledError):
        return Transient("throttled", wait=getattr(exc, "wait", None))
    return None


POLICY = RetryPolicy(
    {"refused": Budget(3, 10.0), "throttled": Budget(40, 300.0)}, base=1.0, cap=20.0
)


def _failing(errors: list[BaseException]) -> object:
    def op() -> str:
        if errors:
            raise errors.pop(0)
        return "ok"

    return op


def test_backoff_with_full_jitter_then_success() -> None:
    clock = FakeClock()
    events: list[RetryEvent] = []
    op = _failing([ThrottledError()] * 4)
    got: str = retry(
        op,  # type: ignore[arg-type]
        "listing x",
        classify=_classify,
        policy=POLICY,
        on_retry=events.append,
        sleep=clock.sleep,
        clock=clock,
    )
    assert got == "ok"
    assert [e.attempt for e in events] == [1, 2, 3, 4]
    assert all(0 <= s <= 2**i for i, s in enumerate(clock.sleeps))


def test_a_refused_connection_gives_up_far_sooner_than_throttling() -> None:
    clock = FakeClock()
    events: list[RetryEvent] = []
    with pytest.raises(RetriesExhaustedError) as failed:
        retry(
            _failing([RefusedError("connection refused")] * 100),  # type: ignore[arg-type]
            "listing x",
            classify=_classify,
            policy=POLICY,
            on_retry=events.append,
            sleep=clock.sleep,
            clock=clock,
        )
    assert failed.value.kind == "refused" and failed.value.attempts == 3
    assert "listing x: gave up after 3 attempt(s)" in str(failed.value)
    assert len(events) == 2 and clock.now <= 10
    clock = FakeClock()
    with pytest.raises(RetriesExhaustedError) as failed:
        retry(
            _failing([ThrottledError()] * 100),  # type: ignore[arg-type]
            "listing x",
            classify=_classify,
            policy=POLICY,
            sleep=clock.sleep,
            clock=clock,
        )
    assert failed.value.attempts > 10 and clock.now > 60


def test_each_retry_is_reported_in_one_line() -> None:
    out = io.StringIO()
    clock = FakeClock()
    retry(
        _failing([RefusedError("connection refused")]),  # type: ignore[arg-type]
        "downloading s3://b/k",
        classify=_classify,
        policy=POLICY,
        on_retry=stderr_reporter(out),
        sleep=clock.sleep,
        clock=clock,
    )
    line = out.getvalue()
    assert line.startswith("rockshard: retrying downloading s3://b/k in ")
    assert "(refused, attempt 1 of 3 failed, 10 s left): connection refused" in line
    assert line.count("\n") == 1


def test_server_requested_wait_is_honoured_within_the_budget() -> None:
    clock = FakeClock()
    slow = ThrottledError()
    slow.wait = 7.0  # type: ignore[attr-defined]
    retry(
        _failing([slow]),  # type: ignore[arg-type]
        "x",
        classify=_classify,
        policy=POLICY,
        sleep=clock.sleep,
        clock=clock,
    )
    assert clock.sleeps == [7.0]
    too_slow = ThrottledError()
    too_slow.wait = 1000.0  # type: ignore[attr-defined]
    with pytest.raises(RetriesExhaustedError):
        retry(
            _failing([too_slow]),  # type: ignore[arg-type]
            "x",
            classify=_classify,
            policy=POLICY,
            sleep=clock.sleep,
            clock=clock,
        )


def test_permanent_failures_propagate_unchanged() -> None:
    calls: list[int] = []

    def op() -> None:
        calls.append(1)
        raise KeyError("no such thing")

    with pytest.raises(KeyError):
        retry(op, "x", classify=_classify, policy=POLICY, sleep=lambda s: None)
    assert calls == [1]


def test_scaled_policy_caps_every_kind_and_raises_the_longest() -> None:
    scaled = POLICY.scaled(30.0)
    assert scaled.budget("throttled").seconds == 30.0
    assert scaled.budget("refused").seconds == 10.0
    assert POLICY.scaled(2.0).budget("refused").seconds == 2.0


def test_process_retries_go_through_the_helper(tmp_path: Path) -> None:
    counter = tmp_path / "n"
    script = (
        "import pathlib, sys\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "n = int(p.read_text()) if p.exists() else 0\n"
        "p.write_text(str(n + 1))\n"
        "if n < 2:\n"
        "    sys.stderr.write('temporary failure\\n')\n"
        "    sys.exit(3)\n"
    )
    events: list[RetryEvent] = []
    result = proc.run(
        [sys.executable, "-c", script, str(counter)],
        retries=3,
        retry_if=lambda r: "temporary" in r.stderr,
        backoff=0.01,
        on_retry=events.append,
    )
    assert result.returncode == 0 and counter.read_text() == "3"
    assert [e.kind for e in events] == ["process", "process"]
    assert events[0].error == "temporary failure"
    counter.unlink()
    with pytest.raises(proc.ProcessError, match="failed with exit status 3: temporary failure"):
        proc.run(
            [sys.executable, "-c", script, str(counter)],
            retries=1,
            retry_if=lambda r: True,
            backoff=0.01,
        )


@pytest.mark.parametrize("url", ["s4://bucket", "gs://b/p", "https://x/y"], ids=str)
def test_unknown_store_scheme_is_an_input_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown scheme .*s3://BUCKET/PREFIX, file://PATH"):
        open_store(url, local_default=tmp_path)
    assert isinstance(open_store(f"file://{tmp_path}", local_default=tmp_path), LocalStore)


def test_unknown_store_scheme_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["artifacts", "ls", "--store", "s4://bucket", "--run-id", "1"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "unknown scheme 's4://'" in err


@pytest.mark.skipif(sys.platform == "win32", reason="process ids of this host")
def test_gc_removes_what_dead_writers_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = LocalStore(tmp_path / "store")
    store.write_text("1-linux", "a.sha256sum", "x")
    folder = tmp_path / "store" / "1-linux"
    live = temp_path(folder / "b.tar.zst")  # ours: a live writer, fresh
    live.write_bytes(b"live")
    dead = folder / live.name.replace(f"{TEMP_MARK}{os.getpid()}-", f"{TEMP_MARK}999999999-")
    dead.write_bytes(b"dead")
    old = folder / f".c.tar.zst{TEMP_MARK}1-otherhost-0000"
    old.write_bytes(b"old")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    args = ["artifacts", "gc", "--store", str(tmp_path / "store"), "--run-id", "1"]
    assert main([*args, "--dry-run"]) == 0
    assert "would remove 2 leftover(s)" in capsys.readouterr().out
    assert dead.exists() and old.exists()
    assert main(args) == 0
    assert "removed 2 leftover(s)" in capsys.readouterr().out
    assert live.exists() and not dead.exists() and not old.exists()
    assert store.listing("1-linux") == {"a.sha256sum": 1}
