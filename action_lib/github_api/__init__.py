"""GitHub's REST API (PyGithub): the changed files of a pull request or a push."""

from action_lib.github_api.client import ChangedFiles, GitHubClient, file_changes
from action_lib.github_api.event import (
    EventContext,
    affected_stages_for_event,
    event_changes,
    event_context,
)

__all__ = [
    "ChangedFiles",
    "EventContext",
    "GitHubClient",
    "affected_stages_for_event",
    "event_changes",
    "event_context",
    "file_changes",
]
