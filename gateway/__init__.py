"""Aegis: an OPA-backed MCP gateway for Gitea."""

__all__ = ["__version__"]

__version__ = "0.1.0"
