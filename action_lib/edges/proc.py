"""The one process runner for git, cmake, ninja and other tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from action_lib.edges.retry import (
    Budget,
    Reporter,
    RetriesExhaustedError,
    RetryPolicy,
    Transient,
    retry,
)
from action_lib.errors import OperationError
from action_lib.settings import environment


@dataclass(frozen=True)
class Result:
    """A finished process."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class ProcessError(OperationError):
    """A process failed, timed out, or could not start."""

    def __init__(self, message: str, result: Result | None = None) -> None:
        super().__init__(message)
        self.result = result


def _quote(args: Sequence[str]) -> str:
    return " ".join(
        a if a and all(c.isalnum() or c in "-_./=:,+@" for c in a) else repr(a) for a in args
    )


def _tail(text: str, lines: int = 5) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


def run(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    check: bool = True,
    capture: bool = True,
    input_text: str | None = None,
    retries: int = 0,
    retry_if: Callable[[Result], bool] | None = None,
    backoff: float = 1.0,
    on_retry: Reporter | None = None,
) -> Result:
    """Run a command. A failure raises ProcessError naming the command and quoting its stderr.

    ``retries`` extra attempts are made (:func:`action_lib.edges.retry.retry`: exponential
    backoff with full jitter, each reported to ``on_retry``) while ``retry_if(result)`` says
    the failure is transient. A timeout kills the process.
    """
    argv = tuple(str(a) for a in args)
    if not argv:
        raise ValueError("empty command")
    merged_env = environment.child(env)

    def attempt() -> Result:
        try:
            completed = subprocess.run(
                argv,
                cwd=cwd,
                env=merged_env,
                timeout=timeout,
                capture_output=capture,
                text=True,
                encoding="utf-8",
                errors="replace",  # a file name's undecodable bytes must not crash a command
                input=input_text,
                check=False,
            )
        except FileNotFoundError:
            raise ProcessError(f"cannot run {argv[0]}: not found on PATH") from None
        except subprocess.TimeoutExpired:
            raise ProcessError(
                f"{_quote(argv)} timed out after {timeout:g} s and was killed"
            ) from None
        result = Result(argv, completed.returncode, completed.stdout or "", completed.stderr or "")
        if result.returncode == 0 or not check:
            return result
        detail = _tail(result.stderr) or _tail(result.stdout)
        raise ProcessError(
            f"{_quote(argv)} failed with exit status {result.returncode}"
            + (f": {detail}" if detail else ""),
            result,
        )

    def classify(exc: BaseException) -> Transient | None:
        result = exc.result if isinstance(exc, ProcessError) else None
        if result is None or retry_if is None or not retry_if(result):
            return None
        return Transient("process", detail=_tail(result.stderr, 1) or f"exit {result.returncode}")

    # Attempt-bounded, not time-bounded: the process's own timeout bounds each attempt.
    policy = RetryPolicy({"process": Budget(retries + 1, float("inf"))}, base=backoff, cap=600.0)
    try:
        return retry(attempt, _quote(argv), classify=classify, policy=policy, on_retry=on_retry)
    except RetriesExhaustedError as exc:
        raise exc.last from None


def stream(
    args: Sequence[str | os.PathLike[str]],
    on_line: Callable[[str], None],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> int:
    """Run a command, handing each line of its merged stdout and stderr to ``on_line``.

    Returns the exit status; a command that runs past ``timeout`` seconds is killed.
    """
    argv = tuple(str(a) for a in args)
    merged_env = environment.child(env)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        child = subprocess.Popen(
            argv,
            cwd=cwd,
            env=merged_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except FileNotFoundError:
        raise ProcessError(f"cannot run {argv[0]}: not found on PATH") from None
    assert child.stdout is not None
    with child:
        for line in child.stdout:
            on_line(line.rstrip("\n"))
            if deadline is not None and time.monotonic() > deadline:
                child.kill()
                raise ProcessError(f"{_quote(argv)} timed out after {timeout:g} s and was killed")
    return child.returncode


def which(tool: str) -> str | None:
    """The full path of ``tool`` on PATH, or None."""
    return shutil.which(tool)
