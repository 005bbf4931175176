"""The Gitea upstream client."""

from gateway.gitea._client import GiteaClient, Page

__all__ = ["GiteaClient", "Page"]
