"""A token's claims as a principal: the configured claims, the scope map, nothing granted by accident."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.edge.oauth import ClaimMapping
from gateway.errors import TokenRefused
from gateway.vocabulary import Principal

KEYCLOAK_LIKE = ClaimMapping(
    principal_claim="preferred_username",
    roles_claim="realm_access.roles",
    scope_claim="scope",
    scope_map=(
        ("mcp:read", "tools:read"),
        ("mcp:write", "tools:write"),
        ("mcp:all", "tools:read"),
        ("mcp:all", "tools:write"),
    ),
)
HYDRA_LIKE = ClaimMapping(
    principal_claim="sub",
    roles_claim="ext.roles",
    scope_claim="scp",
    scope_map=(("tools:read", "tools:read"),),
)


def test_a_space_separated_scope_and_nested_roles() -> None:
    claims = {
        "preferred_username": "bob",
        "scope": "openid mcp:read",
        "realm_access": {"roles": ["dev", "dev", "ops"]},
    }
    assert KEYCLOAK_LIKE.principal(claims) == Principal(
        id="oauth:bob", kind="oauth", scopes=("tools:read",), roles=("dev", "ops")
    )


@pytest.mark.parametrize(
    ("jti", "recorded"),
    [
        pytest.param("tok-1", "tok-1", id="a string"),
        pytest.param(None, None, id="absent"),
        pytest.param(17, None, id="not a string"),
        pytest.param("x" * 257, None, id="too long"),
        pytest.param("a\nb", None, id="not printable"),
    ],
)
def test_the_credential_is_the_tokens_jti_when_it_is_a_short_string(
    jti: object, recorded: str | None
) -> None:
    claims = {"preferred_username": "bob", **({} if jti is None else {"jti": jti})}
    assert KEYCLOAK_LIKE.principal(claims).credential_id == recorded


def test_a_scope_list_and_one_scope_granting_several() -> None:
    assert KEYCLOAK_LIKE.principal({"preferred_username": "bob", "scope": "mcp:all"}).scopes == (
        "tools:read",
        "tools:write",
    )
    principal = HYDRA_LIKE.principal(
        {"sub": "alice", "scp": ["tools:read", "admin"], "ext": {"roles": ["maintainer"]}}
    )
    assert (principal.scopes, principal.roles) == (
        ("tools:read",),
        ("maintainer",),
    )  # admin is not in the map


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param(
            {"sub": "alice", "scp": "tools:read", "ext": {"roles": "maintainer"}}, id="string-roles-split"
        ),
        pytest.param(
            {"sub": "alice", "scp": ["tools:read", 7, {"x": 1}], "ext": []}, id="junk-items-ignored"
        ),
    ],
)
def test_odd_shapes_grant_only_what_is_well_formed(claims: dict[str, Any]) -> None:
    assert HYDRA_LIKE.principal(claims).scopes == ("tools:read",)


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param(None, id="missing"),
        pytest.param(7, id="number"),
        pytest.param("", id="empty"),
        pytest.param("a\nb", id="control"),
        pytest.param("x" * 257, id="long"),
    ],
)
def test_a_principal_claim_that_is_not_a_short_printable_string_is_refused(subject: Any) -> None:
    with pytest.raises(TokenRefused, match="claims"):
        HYDRA_LIKE.principal({"sub": subject, "scp": ["tools:read"]})


def test_which_oauth_scope_grants_a_gateway_scope() -> None:
    assert KEYCLOAK_LIKE.oauth_scopes == ("mcp:read", "mcp:write", "mcp:all")
    assert KEYCLOAK_LIKE.oauth_scope_for("tools:write") == "mcp:write"  # the first one configured
    assert KEYCLOAK_LIKE.oauth_scope_for("admin") is None
