"""The upstream: a Gitea API v1 client behind a circuit breaker."""

from gateway.gitea._breaker import CircuitBreaker
from gateway.gitea._client import GiteaClient, Page

__all__ = ["CircuitBreaker", "GiteaClient", "Page"]
