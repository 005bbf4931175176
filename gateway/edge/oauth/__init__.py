"""OAuth 2.1 resource server (the MCP authorization specification): JWT access tokens validated against
the issuer's JWKS, mapped to principals, and the RFC 9728 metadata that tells clients where to get them.

Example:
    oauth = OAuthResourceServer.connect(settings.oauth)
    if looks_like_jwt(token):
        principal = await oauth.authenticate(token)  # TokenRefused(reason), JwksUnavailable
"""

from gateway.edge.oauth._claims import PRINCIPAL_KIND, ClaimMapping
from gateway.edge.oauth._jwks import JwksCache, SigningKey, http_fetch
from gateway.edge.oauth._metadata import WELL_KNOWN, ResourceMetadata
from gateway.edge.oauth._server import OAuthResourceServer
from gateway.edge.oauth._tokens import TokenValidator


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts, the first a JSON object's base64url (`eyJ`): a JWS in compact form.
    API keys have no dots, so the two kinds of bearer token never overlap."""
    return token.count(".") == 2 and token.startswith("eyJ")


__all__ = [
    "PRINCIPAL_KIND",
    "WELL_KNOWN",
    "ClaimMapping",
    "JwksCache",
    "OAuthResourceServer",
    "ResourceMetadata",
    "SigningKey",
    "TokenValidator",
    "http_fetch",
    "looks_like_jwt",
]
