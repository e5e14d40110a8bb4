"""GitHub's REST API (PyGithub): the changed files of a pull request or a push."""

from action_lib.github_api.client import ChangedFiles, GitHubClient, file_changes

__all__ = ["ChangedFiles", "GitHubClient", "file_changes"]
