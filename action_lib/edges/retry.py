"""The one retry helper: bounded attempts, exponential backoff with full jitter, per-kind budgets.

Callers say what a failure is with a *classifier*: ``None`` for a permanent failure (raised at
once), else a :class:`Transient` naming its kind (``throttled``, ``server``, ``connection``,
``refused``, ``dns``, ...) and, when the other side said so, how long to wait. Each kind has its
own :class:`Budget` (attempts and seconds), so a refused connection or an unknown host gives up
within seconds while a throttled server is waited out for minutes. Every retry is reported
through ``on_retry`` (the CLI prints it on stderr: what failed, the attempt, the time left).
Used by the process runner, the S3 store and the GitHub client.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TextIO, TypeVar

from action_lib.errors import OperationError
from action_lib.inputs.untrusted import escape

T = TypeVar("T")


@dataclass(frozen=True)
class Budget:
    """How long one kind of failure is retried: at most ``attempts`` tries in ``seconds``."""

    attempts: int
    seconds: float


@dataclass(frozen=True)
class Transient:
    """A failure that may pass: its kind, a server-requested wait (seconds) and a description."""

    kind: str
    wait: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """Budgets per kind (``default`` for unnamed kinds), backoff base and cap in seconds."""

    budgets: Mapping[str, Budget] = field(
        default_factory=lambda: {"default": Budget(attempts=5, seconds=60.0)}
    )
    base: float = 0.25
    cap: float = 20.0

    def budget(self, kind: str) -> Budget:
        """The budget of ``kind``."""
        return self.budgets.get(kind) or self.budgets.get("default") or Budget(1, 0.0)

    def scaled(self, seconds: float) -> RetryPolicy:
        """The same policy with every time budget capped at ``seconds`` and the longest raised
        to it (one knob, e.g. ``ROCKSHARD_S3_RETRY_SECONDS``, for the patient kinds)."""
        longest = max((b.seconds for b in self.budgets.values()), default=0.0)
        budgets = {
            kind: replace(b, seconds=seconds if b.seconds == longest else min(b.seconds, seconds))
            for kind, b in self.budgets.items()
        }
        return replace(self, budgets=budgets)


@dataclass(frozen=True)
class RetryEvent:
    """One retry about to happen, for reporting."""

    what: str
    kind: str
    attempt: int  # the attempt that failed (1-based)
    max_attempts: int
    delay: float  # seconds until the next attempt
    time_left: float  # seconds left in this kind's budget
    error: str

    def format(self) -> str:
        """One line: what failed, why, attempt n of m, time left."""
        left = f", {self.time_left:.0f} s left" if self.time_left != float("inf") else ""
        return (
            f"retrying {self.what} in {self.delay:.1f} s ({self.kind}, attempt "
            f"{self.attempt} of {self.max_attempts} failed{left}): {self.error}"
        )


Reporter = Callable[[RetryEvent], None]
Classifier = Callable[[BaseException], "Transient | None"]


class RetriesExhaustedError(OperationError):
    """A transient failure outlived its budget; ``last`` is the final exception."""

    def __init__(self, message: str, last: BaseException, attempts: int, kind: str) -> None:
        super().__init__(message)
        self.last = last
        self.attempts = attempts
        self.kind = kind


def stderr_reporter(stream: TextIO | None = None, prefix: str = "rockshard: ") -> Reporter:
    """A reporter writing one line per retry on ``stream`` (stderr by default)."""

    def report(event: RetryEvent) -> None:
        out = stream or sys.stderr
        out.write(prefix + escape(event.format()) + "\n")  # it quotes a server's words
        out.flush()

    return report


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def retry(
    op: Callable[[], T],
    what: str,
    *,
    classify: Classifier,
    policy: RetryPolicy,
    on_retry: Reporter | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> T:
    """Run ``op`` until it succeeds, a failure is permanent, or its kind's budget is spent.

    Permanent failures propagate unchanged; an exhausted budget raises RetriesExhaustedError
    naming ``what``, the kind, the attempts and the last error.
    """
    start = clock()
    attempts: dict[str, int] = {}
    total = 0
    draw = rng.uniform if rng is not None else random.uniform
    while True:
        try:
            return op()
        except Exception as exc:
            transient = classify(exc)
            if transient is None:
                raise
            total += 1
            kind = transient.kind
            attempts[kind] = attempts.get(kind, 0) + 1
            budget = policy.budget(kind)
            elapsed = clock() - start
            left = budget.seconds - elapsed
            if transient.wait is not None:
                delay = max(0.0, transient.wait)
            else:
                delay = draw(0, min(policy.cap, policy.base * 2 ** (total - 1)))
            error = transient.detail or _one_line(exc)
            if attempts[kind] >= budget.attempts or delay > left:
                raise RetriesExhaustedError(
                    f"{what}: gave up after {total} attempt(s) in {elapsed:.0f} s "
                    f"({kind}): {error}",
                    exc,
                    total,
                    kind,
                ) from None
            if on_retry is not None:
                on_retry(
                    RetryEvent(what, kind, attempts[kind], budget.attempts, delay, left, error)
                )
            sleep(delay)
