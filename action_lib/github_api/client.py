"""Changed files of a pull request or a push comparison, through PyGithub.

Rate limits, server errors and dropped connections are retried with backoff; what still
fails raises OperationError, which callers turn into "every stage affected, because ...".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException
from github.GithubException import BadAttributeException

from action_lib.edges.retry import (
    Budget,
    Reporter,
    RetriesExhaustedError,
    RetryPolicy,
    Transient,
    retry,
)
from action_lib.errors import InputError, OperationError
from action_lib.impact.analyze import Change

DEFAULT_API_URL = "https://api.github.com"
PULL_FILES_LIMIT = 3000  # GitHub lists at most this many files of a pull request
COMPARE_FILES_LIMIT = 300  # ... and of a comparison
MAX_NAME = 4096  # characters of a file name GitHub may list (git's PATH_MAX); longer is refused
MAX_PATCH_SCAN = 64 * 1024  # characters of a patch searched for submodule moves (they are tiny)
# What a malformed answer raises inside PyGithub when a field is missing or of the wrong type.
MALFORMED = (BadAttributeException, TypeError, ValueError, KeyError, AttributeError)
_SUBPROJECT = re.compile(r"^([+-])Subproject commit ([0-9a-f]{7,40})", re.MULTILINE)
_STATUS = {"added": "A", "removed": "D", "modified": "M", "renamed": "R", "copied": "C"}

T = TypeVar("T")


@dataclass(frozen=True)
class ChangedFiles:
    """The changes GitHub listed; ``complete`` is False when it cut the list short."""

    changes: tuple[Change, ...]
    complete: bool
    origin: str
    note: str = ""


class MalformedAnswerError(OperationError):
    """GitHub (or whatever answered in its place) sent data of the wrong shape or size."""


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedAnswerError(f"GitHub listed a file without a {what}")
    if len(value) > MAX_NAME:
        raise MalformedAnswerError(
            f"GitHub listed a file {what} of {len(value)} characters (at most {MAX_NAME})"
        )
    if "\0" in value:
        raise MalformedAnswerError(f"GitHub listed a file {what} holding a NUL character")
    return value


def file_changes(filename: object, status: object, patch: object, previous: object) -> list[Change]:
    """The changes of one GitHub file entry: a rename also changes its old path, and a
    patch of ``Subproject commit`` lines is a submodule pointer move.

    The entry is checked first (a name that is a non-empty string of at most MAX_NAME
    characters, without NUL): MalformedAnswerError otherwise.
    """
    filename = _name(filename, "name")
    previous = None if previous is None else _name(previous, "previous name")
    status = status if isinstance(status, str) else ""
    text = patch[:MAX_PATCH_SCAN] if isinstance(patch, str) else ""
    moves = {sign: sha for sign, sha in _SUBPROJECT.findall(text)}
    submodule = bool(moves)
    out = [
        Change(
            filename,
            _STATUS.get(status, "M"),
            submodule,
            moves.get("-", ""),
            moves.get("+", ""),
        )
    ]
    if previous and previous != filename:
        out.append(Change(previous, "D", submodule))
    return out


def _headers(exc: GithubException) -> Mapping[str, Any]:
    return {k.lower(): v for k, v in (exc.headers or {}).items()}


def _message(exc: GithubException) -> str:
    return str(exc.message or (exc.data.get("message") if isinstance(exc.data, dict) else ""))


def _rate_limited(exc: GithubException) -> bool:
    """A 429, or a 403 that says it is a rate limit (primary or secondary)."""
    return exc.status == 429 or (
        exc.status == 403
        and (
            "rate limit" in _message(exc).lower()
            or str(_headers(exc).get("x-ratelimit-remaining", "")) == "0"
        )
    )


class GitHubClient:
    """A small, retrying reader of GitHub's REST API (PyGithub underneath)."""

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str = DEFAULT_API_URL,
        retries: int = 4,
        backoff: float = 2.0,
        max_wait: float = 60.0,
        timeout: int = 30,
        seconds_between_requests: float | None = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        per_page: int = 100,
        on_retry: Reporter | None = None,
    ) -> None:
        self.retries = retries
        self.on_retry = on_retry
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        self._github = Github(
            auth=Auth.Token(token) if token else None,
            base_url=base_url.rstrip("/"),
            per_page=per_page,
            timeout=timeout,
            retry=None,  # retried here, where a rate limit's wait can be bounded
            seconds_between_requests=seconds_between_requests,
            seconds_between_writes=None,
            lazy=True,  # no request for an object until one of its fields is read
        )

    @property
    def api(self) -> Github:
        """The PyGithub client underneath (requests go through :meth:`call`)."""
        return self._github

    def close(self) -> None:
        """Close the HTTP connections."""
        self._github.close()

    def _classify(self, exc: BaseException) -> Transient | None:
        """The kind of a transient failure (with GitHub's requested wait), None if permanent.
        A rate limit whose reset is further than ``max_wait`` waits more than its budget, so
        it gives up at once."""
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return Transient("connection", detail=f"connection failed: {exc}")
        if not isinstance(exc, GithubException):
            return None
        text = self._text(exc)
        if exc.status in (500, 502, 503, 504):
            return Transient("server", detail=text)
        if not _rate_limited(exc):
            return None
        headers = _headers(exc)
        wait: float | None = None
        if "retry-after" in headers:
            wait = float(headers["retry-after"])
        elif (
            str(headers.get("x-ratelimit-remaining", "")) == "0" and "x-ratelimit-reset" in headers
        ):
            wait = max(0.0, float(headers["x-ratelimit-reset"]) - time.time()) + 1.0
        if wait is not None and wait > self.max_wait:
            return Transient("throttled", wait, f"{text} (the limit resets in {wait:.0f} s)")
        return Transient("throttled", wait, text)

    @staticmethod
    def _text(exc: BaseException) -> str:
        if isinstance(exc, GithubException):
            message = _message(exc)
            return f"HTTP {exc.status}" + (f": {message}" if message else "")
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return f"connection failed: {exc}"
        return str(exc)

    def call(
        self, what: str, fn: Callable[[], T], refused: Callable[[int], str] | None = None
    ) -> T:
        """``fn()``, retried (:func:`action_lib.edges.retry.retry`: ``retries`` extra attempts
        with jittered backoff, a rate limit's wait honoured up to ``max_wait``; each retry
        reported to ``on_retry``); a failure raises OperationError. With ``refused``, a 401,
        403 (not a rate limit) or 404 raises InputError with ``refused(status)`` instead."""
        budget = Budget(self.retries + 1, float("inf"))
        policy = RetryPolicy(
            {
                "throttled": Budget(self.retries + 1, self.max_wait),
                "server": budget,
                "connection": budget,
            },
            base=self.backoff,
            cap=self.max_wait,
        )
        try:
            return retry(
                fn,
                f"GitHub API: {what}",
                classify=self._classify,
                policy=policy,
                on_retry=self.on_retry,
                sleep=self._sleep,
            )
        except RetriesExhaustedError as exc:
            transient = self._classify(exc.last)
            text = transient.detail if transient is not None else self._text(exc.last)
            tries = f" after {exc.attempts} attempts" if exc.attempts > 1 else ""
            raise OperationError(f"GitHub API: {what} failed{tries}: {text}") from None
        except (GithubException, requests.RequestException) as exc:
            text = self._text(exc)
            if (
                refused is not None
                and isinstance(exc, GithubException)
                and exc.status in (401, 403, 404)
                and not _rate_limited(exc)
            ):
                raise InputError(f"GitHub API: {refused(exc.status)} ({text})") from None
            raise OperationError(f"GitHub API: {what} failed: {text}") from None
        except MALFORMED as exc:
            # A field missing or of the wrong type: never a traceback, and the server's data
            # is not echoed (the message names the kind of problem only).
            raise MalformedAnswerError(
                f"GitHub API: {what}: the answer is malformed ({type(exc).__name__})"
            ) from None

    def pull_request_files(self, repository: str, number: int) -> ChangedFiles:
        """Every file of pull request ``number`` (all pages)."""
        origin = f"pull request #{number} of {repository}"

        def load() -> tuple[list[Change], int, int]:
            pull = self._github.get_repo(repository).get_pull(number)
            changes: list[Change] = []
            listed = 0
            for f in pull.get_files():
                if listed >= PULL_FILES_LIMIT:  # memory stays bounded whatever answers
                    listed += 1
                    break
                changes += file_changes(f.filename, f.status, f.patch, f.previous_filename)
                listed += 1
            total = pull.changed_files
            if type(total) is not int or total < 0:
                raise MalformedAnswerError(
                    "the pull request does not say how many files it changes"
                )
            return changes, listed, total

        changes, listed, total = self.call(f"listing the files of {origin}", load)
        complete = total <= listed <= PULL_FILES_LIMIT
        note = ""
        if listed > PULL_FILES_LIMIT:
            note = f"GitHub listed more than {PULL_FILES_LIMIT} changed files"
            changes = []
        elif not complete:
            note = f"GitHub listed {listed} of the {total} changed files"
            if total > PULL_FILES_LIMIT:
                note += f" (it lists at most {PULL_FILES_LIMIT} files of a pull request)"
        return ChangedFiles(tuple(changes), complete, origin, note)

    def compare_files(self, repository: str, base: str, head: str) -> ChangedFiles:
        """The files changed from ``base`` to ``head`` (GitHub's ``base...head``)."""
        origin = f"comparison {base[:12]}...{head[:12]} of {repository}"

        def load() -> tuple[list[Change], int]:
            comparison = self._github.get_repo(repository).compare(base, head)
            changes: list[Change] = []
            files = comparison.files
            for f in files[:COMPARE_FILES_LIMIT]:
                changes += file_changes(f.filename, f.status, f.patch, f.previous_filename)
            return changes, len(files)

        changes, count = self.call(f"comparing {base}...{head} in {repository}", load)
        complete = count < COMPARE_FILES_LIMIT
        note = (
            "" if complete else f"GitHub lists at most {COMPARE_FILES_LIMIT} files of a comparison"
        )
        return ChangedFiles(tuple(changes), complete, origin, note)
