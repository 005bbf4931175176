"""The decision explorer: read-only pages under /admin/explorer for compliance reviewers, over this
gateway's audit chain and its policy archive (docs/explorer.md).

Example:
    explorer = Explorer(audit_log=..., archive=PolicyArchive(db), keys=keys, throttle=throttle,
                        events=events, body_timeout_s=10)
    routes = explorer.routes()
"""

from gateway.explorer._routes import EXPLORER_PATHS, Explorer

__all__ = ["EXPLORER_PATHS", "Explorer"]
