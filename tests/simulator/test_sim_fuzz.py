"""Requests generated from Gitea's spec (schemathesis + hypothesis, derandomized): the simulator never fails,
and every success conforms to the spec (with the documented server differences of test_sim_contract)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from gitea_simulator import create_app
from gitea_simulator._paths import clean_tree_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.schemas import OpenApiSchema
from starlette.applications import Starlette

from .conftest import API, Seeded
from .test_sim_contract import _is_directory, _spec, _violations

OPERATIONS = [
    "/repos/search",
    "/user/repos",
    "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/branches",
    "/repos/{owner}/{repo}/branches/{branch}",
    "/repos/{owner}/{repo}/git/trees/{sha}",
    "/repos/{owner}/{repo}/contents/{filepath}",
    "/repos/{owner}/{repo}/contents",
    "/repos/{owner}/{repo}/raw/{filepath}",
    "/repos/{owner}/{repo}/commits",
    "/repos/{owner}/{repo}/git/commits/{sha}",
    "/repos/{owner}/{repo}/issues",
    "/repos/{owner}/{repo}/issues/{index}",
    "/repos/{owner}/{repo}/tags",
    "/repos/{owner}/{repo}/releases",
    "/repos/{owner}/{repo}/compare/{basehead}",
    "/repos/{owner}/{repo}/pulls",
    "/repos/{owner}/{repo}/pulls/{index}",
    "/repos/{owner}/{repo}/pulls/{index}/files",
]
_SLASHES_ALLOWED = {"filepath", "branch", "sha", "basehead"}


@pytest.fixture(scope="module")
def schema() -> OpenApiSchema:
    return schemathesis.openapi.from_dict(_spec(go_nulls=True))


def _url(spec_path: str, parameters: dict[str, Any], *, real_repo: bool) -> str:
    if real_repo and "owner" in parameters:
        parameters = {**parameters, "owner": "acme", "repo": "app"}
    path = spec_path
    for name, value in parameters.items():
        path = path.replace(f"{{{name}}}", quote(str(value), safe="/" if name in _SLASHES_ALLOWED else ""))
    return f"{API}{path}"


def _query(query: dict[str, Any] | None) -> dict[str, str]:
    return {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in (query or {}).items()
    }


async def _get(app: Starlette, token: str, url: str, params: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, headers={"Authorization": f"token {token}"}) as http:
        return await http.get(url, params=params)


@pytest.mark.parametrize("spec_path", OPERATIONS)
def test_generated_requests(schema: OpenApiSchema, seeded: Seeded, spec_path: str) -> None:
    operation = schema[spec_path]["GET"]
    listing = schema["/repos/{owner}/{repo}/contents"]["GET"]
    app = create_app(seeded.state_dir)

    @settings(
        max_examples=25,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), real_repo=st.booleans())
    def check(case: Any, real_repo: bool) -> None:
        parameters = dict(case.path_parameters or {})
        response = asyncio.run(
            _get(app, seeded.seed.token, _url(spec_path, parameters, real_repo=real_repo), _query(case.query))
        )
        if response.status_code == 500:  # only Gitea's ErrFilenameInvalid, on a path naming .git
            assert spec_path.endswith("/contents/{filepath}")
            assert clean_tree_path(str(parameters["filepath"])) is None
            return
        assert response.status_code < 500
        if response.status_code < 300:
            target = (
                listing
                if spec_path.endswith("/contents/{filepath}") and _is_directory(response)
                else operation
            )
            assert _violations(target, response) == []

    check()
