"""The gateway as an OAuth 2.1 resource server: a bearer token in, a Principal or a refusal out."""

from __future__ import annotations

from gateway.edge.oauth._claims import ClaimMapping
from gateway.edge.oauth._jwks import MAX_JWKS_BYTES, JwksCache, http_fetch
from gateway.edge.oauth._metadata import ResourceMetadata
from gateway.edge.oauth._tokens import TokenValidator
from gateway.oauth_config import OAuthSettings
from gateway.outbound import HttpSession
from gateway.vocabulary import Principal


class OAuthResourceServer:
    """Validates JWT access tokens and maps them to principals; knows the metadata document and the
    challenges that point to it, with the OAuth scope that grants the gateway scope a path needs.

    Example:
        oauth = OAuthResourceServer.connect(settings.oauth)
        principal = await oauth.authenticate(token)  # TokenRefused, JwksUnavailable
    """

    def __init__(
        self,
        *,
        settings: OAuthSettings,
        jwks: JwksCache,
        session: HttpSession | None = None,
    ) -> None:
        self._validator = TokenValidator(
            jwks=jwks,
            issuer=settings.issuer,
            resource=settings.resource,
            algorithms=settings.algorithms,
            leeway_s=settings.leeway_s,
        )
        self._claims = ClaimMapping(
            principal_claim=settings.principal_claim,
            roles_claim=settings.roles_claim,
            scope_claim=settings.scope_claim,
            scope_map=settings.scope_map,
        )
        self.metadata = ResourceMetadata(
            resource=settings.resource,
            authorization_servers=settings.authorization_servers,
            scopes_supported=self._claims.oauth_scopes,
        )
        self._session = session

    @classmethod
    def connect(cls, settings: OAuthSettings) -> OAuthResourceServer:
        """The resource server that fetches the issuer's JWKS over HTTP, with its timeout and bound."""
        session = HttpSession(
            base_url=settings.jwks_uri,
            timeout_s=settings.jwks_timeout_s,
            headers={"Accept": "application/json"},
            max_body_bytes=MAX_JWKS_BYTES,
            max_connections=4,
        )
        jwks = JwksCache(
            fetch=http_fetch(session),
            max_age_s=settings.jwks_max_age_s,
            min_refresh_s=settings.jwks_min_refresh_s,
        )
        return cls(settings=settings, jwks=jwks, session=session)

    async def authenticate(self, token: str) -> Principal:
        return self._claims.principal(await self._validator.claims(token))

    def challenge(self, *, presented: bool, needed: str | None) -> bytes:
        """A 401's WWW-Authenticate: the metadata URL, `invalid_token` when a token was presented, and
        the OAuth scope that grants the gateway scope `needed`."""
        return self.metadata.challenge(
            error="invalid_token" if presented else None, scope=self._scope_for(needed)
        )

    def scope_challenge(self, principal: Principal, needed: str | None) -> bytes | None:
        """A 403's WWW-Authenticate (`insufficient_scope`) when `principal` lacks the gateway scope
        `needed`; None when it has it, or nothing is needed."""
        if needed is None or needed in principal.scopes:
            return None
        return self.metadata.challenge(error="insufficient_scope", scope=self._scope_for(needed) or needed)

    def _scope_for(self, needed: str | None) -> str | None:
        return self._claims.oauth_scope_for(needed) if needed else None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.aclose()
