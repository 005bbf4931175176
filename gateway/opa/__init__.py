"""Asking OPA for decisions, and running OPA when no sidecar is configured."""

from gateway.opa._binary import cannot_run as cannot_run_opa
from gateway.opa._client import Decision, DecisionClient, Reason, ResultUndecided
from gateway.opa._process import ManagedOpa
from gateway.opa._source import DecisionSource

__all__ = [
    "Decision",
    "DecisionClient",
    "DecisionSource",
    "ManagedOpa",
    "Reason",
    "ResultUndecided",
    "cannot_run_opa",
]
