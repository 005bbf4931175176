"""Logs, metrics and request ids: the evidence every call leaves behind."""
