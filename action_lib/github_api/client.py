"""Changed files of a pull request or a push comparison, through PyGithub.

Rate limits, server errors and dropped connections are retried with backoff; what still
fails raises OperationError, which callers turn into "every stage affected, because ...".
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException

from action_lib.errors import InputError, OperationError
from action_lib.impact.analyze import Change

DEFAULT_API_URL = "https://api.github.com"
PULL_FILES_LIMIT = 3000  # GitHub lists at most this many files of a pull request
COMPARE_FILES_LIMIT = 300  # ... and of a comparison
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


def file_changes(
    filename: str, status: str, patch: str | None, previous: str | None
) -> list[Change]:
    """The changes of one GitHub file entry: a rename also changes its old path, and a
    patch of ``Subproject commit`` lines is a submodule pointer move."""
    moves = {sign: sha for sign, sha in _SUBPROJECT.findall(patch or "")}
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
    ) -> None:
        self.retries = retries
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

    def _delay(self, exc: Exception, attempt: int) -> tuple[float | None, str]:
        """Seconds to wait before another attempt (None: do not retry), and a description."""
        backoff = self.backoff * (2**attempt) * (0.5 + random.random())
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return backoff, f"connection failed: {exc}"
        if not isinstance(exc, GithubException):
            return None, str(exc)
        headers = _headers(exc)
        message = _message(exc)
        text = f"HTTP {exc.status}" + (f": {message}" if message else "")
        if exc.status in (500, 502, 503, 504):
            return backoff, text
        if not _rate_limited(exc):
            return None, text
        wait = backoff
        if "retry-after" in headers:
            wait = float(headers["retry-after"])
        elif (
            str(headers.get("x-ratelimit-remaining", "")) == "0" and "x-ratelimit-reset" in headers
        ):
            wait = max(0.0, float(headers["x-ratelimit-reset"]) - time.time()) + 1.0
        if wait > self.max_wait:
            return None, f"{text} (the limit resets in {wait:.0f} s)"
        return wait, text

    def call(
        self, what: str, fn: Callable[[], T], refused: Callable[[int], str] | None = None
    ) -> T:
        """``fn()``, retried; a failure raises OperationError. With ``refused``, a 401, 403
        (not a rate limit) or 404 raises InputError with ``refused(status)`` instead."""
        attempt = 0
        while True:
            try:
                return fn()
            except (GithubException, requests.RequestException) as exc:
                delay, text = self._delay(exc, attempt)
                if (
                    refused is not None
                    and delay is None
                    and isinstance(exc, GithubException)
                    and exc.status in (401, 403, 404)
                    and not _rate_limited(exc)
                ):
                    raise InputError(f"GitHub API: {refused(exc.status)} ({text})") from None
                if delay is None or attempt >= self.retries:
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    raise OperationError(f"GitHub API: {what} failed{tries}: {text}") from None
                self._sleep(delay)
                attempt += 1

    def pull_request_files(self, repository: str, number: int) -> ChangedFiles:
        """Every file of pull request ``number`` (all pages)."""
        origin = f"pull request #{number} of {repository}"

        def load() -> tuple[list[Change], int, int]:
            pull = self._github.get_repo(repository).get_pull(number)
            changes: list[Change] = []
            listed = 0
            for f in pull.get_files():
                changes += file_changes(f.filename, f.status, f.patch, f.previous_filename)
                listed += 1
            return changes, listed, int(pull.changed_files)

        changes, listed, total = self.call(f"listing the files of {origin}", load)
        complete = listed >= total
        note = ""
        if not complete:
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
            for f in files:
                changes += file_changes(f.filename, f.status, f.patch, f.previous_filename)
            return changes, len(files)

        changes, count = self.call(f"comparing {base}...{head} in {repository}", load)
        complete = count < COMPARE_FILES_LIMIT
        note = (
            "" if complete else f"GitHub lists at most {COMPARE_FILES_LIMIT} files of a comparison"
        )
        return ChangedFiles(tuple(changes), complete, origin, note)
