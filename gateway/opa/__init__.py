"""Asking OPA for decisions, and running OPA when no sidecar is configured."""

from gateway.opa._binary import cannot_run as cannot_run_opa
from gateway.opa._client import Decision, DecisionClient, Reason, ResultUndecided
from gateway.opa._managed import LoadedPolicy, ManagedSettings, ManagedSource, PolicyRecorder
from gateway.opa._process import ManagedOpa
from gateway.opa._sidecar import SidecarSource

__all__ = [
    "Decision",
    "DecisionClient",
    "LoadedPolicy",
    "ManagedOpa",
    "ManagedSettings",
    "ManagedSource",
    "PolicyRecorder",
    "Reason",
    "ResultUndecided",
    "SidecarSource",
    "cannot_run_opa",
]
