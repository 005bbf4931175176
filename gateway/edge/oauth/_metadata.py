"""OAuth 2.0 Protected Resource Metadata (RFC 9728) and the Bearer challenges that point to it.

The document is served, without authentication, at the well-known URL RFC 9728 section 3.1 builds from
the resource URL (`https://host/mcp` -> `https://host/.well-known/oauth-protected-resource/mcp`), and at
the bare well-known path for clients that probe the host. Every challenge names that URL in
`resource_metadata`, so that a client told 401 or 403 can find the authorization server.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

WELL_KNOWN = "/.well-known/oauth-protected-resource"


class ResourceMetadata:
    """Example:
    metadata = ResourceMetadata(
        resource="https://aegis.example.com/mcp",
        authorization_servers=("https://id.example.com/",),
        scopes_supported=("tools:read",),
    )
    metadata.url  # "https://aegis.example.com/.well-known/oauth-protected-resource/mcp"
    """

    def __init__(
        self, *, resource: str, authorization_servers: tuple[str, ...], scopes_supported: tuple[str, ...]
    ) -> None:
        parts = urlsplit(resource)
        path = WELL_KNOWN + parts.path.rstrip("/")
        self.url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        self.paths = tuple(dict.fromkeys((path, WELL_KNOWN)))
        self._document = {
            "resource": resource,
            "authorization_servers": list(authorization_servers),
            "scopes_supported": list(scopes_supported),
            "bearer_methods_supported": ["header"],
            "resource_name": "Aegis MCP gateway",
        }

    def routes(self) -> list[Route]:
        async def serve(request: Request) -> Response:
            return JSONResponse(self._document, headers={"cache-control": "max-age=3600"})

        return [Route(path, serve, methods=["GET"]) for path in self.paths]

    def challenge(self, *, error: str | None = None, scope: str | None = None) -> bytes:
        """A `WWW-Authenticate` value: `Bearer realm="aegis", resource_metadata="..."`, with the
        error (`invalid_token`, `insufficient_scope`) and the scope the request needs when given."""
        params = [("realm", "aegis"), ("resource_metadata", self.url)]
        if error is not None:
            params.append(("error", error))
        if scope is not None:
            params.append(("scope", scope))
        return ("Bearer " + ", ".join(f'{name}="{value}"' for name, value in params)).encode()
