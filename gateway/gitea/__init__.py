"""The upstream: a Gitea API v1 client behind a circuit breaker, and the file reads and writes built on it."""

from gateway.gitea._breaker import CircuitBreaker
from gateway.gitea._client import GiteaClient, Page
from gateway.gitea._files import (
    commit_file,
    contents_ext_path,
    contents_path,
    current_file,
    decode_base64,
    git_blob_sha,
    repo_path,
)

__all__ = [
    "CircuitBreaker",
    "GiteaClient",
    "Page",
    "commit_file",
    "contents_ext_path",
    "contents_path",
    "current_file",
    "decode_base64",
    "git_blob_sha",
    "repo_path",
]
