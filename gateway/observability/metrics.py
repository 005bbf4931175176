"""Prometheus metrics of the gateway, kept in a registry of their own."""

from __future__ import annotations

import dataclasses

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclasses.dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    tool_calls: Counter
    tool_call_duration: Histogram
    opa_decision_duration: Histogram
    opa_errors: Counter
    auth_failures: Counter
    audit_failures: Counter
    http_requests: Counter
    opa_ready: Gauge
    audit_usable: Gauge
    policy_reloads: Counter
    security_events: Counter
    rate_limited: Counter
    limit_backend_errors: Counter
    in_flight: Gauge
    connections_closed_early: Counter
    gitea_circuit_open: Gauge
    secrets_found: Counter
    outputs_withheld: Counter
    outputs_truncated: Counter
    result_items_withheld: Counter
    automation_runs: Counter
    automation_steps: Counter
    webhook_deliveries: Counter
    automation_queue_depth: Gauge
    automation_handler_failures: Counter
    automation_unprocessed: Counter
    automation_slots: Counter

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            registry=registry,
            tool_calls=Counter(
                "aegis_tool_calls", "Tool calls by tool and outcome.", ["tool", "outcome"], registry=registry
            ),
            tool_call_duration=Histogram(
                "aegis_tool_call_duration_seconds",
                "Duration of tools/call handling, from parsed request to audited result.",
                ["tool"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            opa_decision_duration=Histogram(
                "aegis_opa_decision_duration_seconds",
                "Round trip of one OPA decision query as the gateway sees it.",
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            opa_errors=Counter(
                "aegis_opa_errors",
                "OPA queries that failed and were treated as deny.",
                ["kind"],
                registry=registry,
            ),
            auth_failures=Counter(
                "aegis_auth_failures", "Rejected authentication attempts.", ["reason"], registry=registry
            ),
            audit_failures=Counter(
                "aegis_audit_write_failures", "Audit entries that could not be written.", registry=registry
            ),
            http_requests=Counter(
                "aegis_http_requests",
                "HTTP requests by route and status.",
                ["route", "status"],
                registry=registry,
            ),
            opa_ready=Gauge("aegis_opa_ready", "1 when OPA serves the policy bundle.", registry=registry),
            audit_usable=Gauge(
                "aegis_audit_log_usable", "1 while the audit log can be written.", registry=registry
            ),
            policy_reloads=Counter(
                "aegis_policy_reloads",
                "Policy file changes, applied or refused.",
                ["result"],
                registry=registry,
            ),
            security_events=Counter(
                "aegis_security_events",
                "Edge security events: auth failures, throttling, rate limits, overload.",
                ["event"],
                registry=registry,
            ),
            rate_limited=Counter(
                "aegis_rate_limited",
                "Requests refused by a rate limit, per client address or key.",
                ["per"],
                registry=registry,
            ),
            limit_backend_errors=Counter(
                "aegis_limit_backend_errors",
                "Rate-limit backend failures; each refused its request.",
                registry=registry,
            ),
            in_flight=Gauge("aegis_in_flight_requests", "MCP requests in flight.", registry=registry),
            connections_closed_early=Counter(
                "aegis_connections_closed_early",
                "Connections closed before a request: over the cap per address, head too slow or too large.",
                ["reason"],
                registry=registry,
            ),
            gitea_circuit_open=Gauge(
                "aegis_gitea_circuit_open",
                "1 while the circuit breaker around Gitea is open.",
                registry=registry,
            ),
            secrets_found=Counter(
                "aegis_secrets_found", "Secrets found in tool output, by kind.", ["kind"], registry=registry
            ),
            outputs_withheld=Counter(
                "aegis_outputs_withheld",
                "Tool results withheld because they carried secrets and the policy says block.",
                registry=registry,
            ),
            outputs_truncated=Counter(
                "aegis_outputs_truncated", "Tool results cut to the output bounds.", registry=registry
            ),
            result_items_withheld=Counter(
                "aegis_result_items_withheld",
                "Items of tool results (entries, files, diff sections) withheld by path rules",
                registry=registry,
            ),
            automation_runs=Counter(
                "aegis_automation_runs",
                "Automation job runs by job and outcome (completed, denied, held, failed, timeout).",
                ["job", "outcome"],
                registry=registry,
            ),
            automation_steps=Counter(
                "aegis_automation_steps",
                "Automation steps by job and outcome (allowed, skipped, denied, held, invalid, error).",
                ["job", "outcome"],
                registry=registry,
            ),
            webhook_deliveries=Counter(
                "aegis_webhook_deliveries",
                "Gitea webhook deliveries by event and outcome (accepted, or why not).",
                ["event", "outcome"],
                registry=registry,
            ),
            automation_queue_depth=Gauge(
                "aegis_automation_queue_depth",
                "Accepted deliveries waiting for an automation worker.",
                registry=registry,
            ),
            automation_handler_failures=Counter(
                "aegis_automation_handler_failures",
                "Deliveries whose handler raised (logged; the worker goes on).",
                registry=registry,
            ),
            automation_unprocessed=Counter(
                "aegis_automation_unprocessed",
                "Accepted deliveries left unprocessed when the gateway stopped (each logged).",
                registry=registry,
            ),
            automation_slots=Counter(
                "aegis_automation_slots",
                "Slots of scheduled jobs, by job and outcome.",
                ["job", "outcome"],
                registry=registry,
            ),
        )
