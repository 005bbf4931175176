"""The trigger facts read from Gitea webhook payloads."""

from __future__ import annotations

from gateway.automation._facts import MAX_PATHS, webhook_facts
from gateway.automation._model import WebhookTrigger

REPOSITORY = {"full_name": "Acme/App", "name": "App", "owner": {"login": "Acme"}}


def test_an_issue_names_its_repository_number_labels_and_the_paths_it_mentions() -> None:
    payload = {
        "action": "opened",
        "issue": {
            "number": 12,
            "title": "Crash in src/auth/login.py",
            "body": "See `docs/setup.md`, and README.md. Not ../etc/passwd nor https://x.invalid/a.",
            "labels": [{"name": "bug"}],
        },
        "repository": REPOSITORY,
        "sender": {"login": "alice"},
    }
    facts = webhook_facts("issues", payload, delivery="d-1")
    assert facts["repository"] == "acme/app" and (facts["owner"], facts["repo"]) == ("acme", "app")
    assert (facts["action"], facts["number"], facts["labels"], facts["sender"]) == (
        "opened",
        12,
        ["bug"],
        "alice",
    )
    assert facts["paths"][:3] == ["src/auth/login.py", "docs/setup.md", "README.md"]
    assert "../etc/passwd" not in facts["paths"] and "etc/passwd" not in facts["paths"]
    assert facts["delivery"] == "d-1" and facts["branch"] is None


def test_a_push_names_its_branch_and_every_changed_path() -> None:
    payload = {
        "ref": "refs/heads/main",
        "commits": [
            {"added": ["a.txt"], "modified": ["src/x.py"], "removed": []},
            {"added": [], "modified": ["src/x.py"], "removed": ["old/y.md"]},
        ],
        "repository": REPOSITORY,
    }
    facts = webhook_facts("push", payload, delivery="d-2")
    assert facts["branch"] == "main"
    assert facts["paths"] == ["a.txt", "src/x.py", "old/y.md"]
    assert webhook_facts("push", {**payload, "ref": "refs/tags/v1"}, delivery="d")["branch"] is None


def test_a_pull_request_names_its_base_branch() -> None:
    payload = {
        "action": "opened",
        "number": 3,
        "pull_request": {"number": 3, "title": "t", "body": "", "base": {"ref": "main"}, "labels": []},
        "repository": REPOSITORY,
    }
    facts = webhook_facts("pull_request", payload, delivery="d")
    assert (facts["branch"], facts["number"]) == ("main", 3)


def test_malformed_payloads_give_no_facts_rather_than_failing() -> None:
    facts = webhook_facts(
        "issues", {"repository": {"full_name": "../x"}, "issue": "no", "action": 3}, delivery="d"
    )
    assert (facts["repository"], facts["number"], facts["action"], facts["paths"]) == (None, None, None, [])


def test_mentioned_paths_are_bounded() -> None:
    body = " ".join(f"dir/f{n}.txt" for n in range(MAX_PATHS + 1))
    facts = webhook_facts("issues", {"issue": {"body": body}, "repository": REPOSITORY}, delivery="d")
    assert len(facts["paths"]) == MAX_PATHS and facts["paths_complete"] is False
    assert WebhookTrigger(events=("issues",), paths=("deploy/**",)).matches(facts)  # cannot rule it out


def test_a_push_of_many_files_still_names_the_one_that_matters() -> None:
    payload = {
        "ref": "refs/heads/main",
        "commits": [{"added": [f"a/{n}.txt" for n in range(500)], "modified": ["deploy/prod.yaml"]}],
        "repository": REPOSITORY,
    }
    facts = webhook_facts("push", payload, delivery="d")
    assert "deploy/prod.yaml" in facts["paths"] and facts["paths_complete"] is True
    assert WebhookTrigger(events=("push",), paths=("deploy/**",)).matches(facts)
    assert not WebhookTrigger(events=("push",), paths=("src/**",)).matches(facts)


def test_a_push_of_more_commits_than_gitea_lists_matches_every_paths_filter() -> None:
    """Gitea lists 5 commits of a push: a change in an earlier one is not in the payload."""
    payload = {
        "ref": "refs/heads/main",
        "total_commits": 6,
        "commits": [{"added": [], "modified": ["README.md"], "removed": []}] * 5,
        "repository": REPOSITORY,
    }
    facts = webhook_facts("push", payload, delivery="d")
    assert facts["paths"] == ["README.md"] and facts["paths_complete"] is False
    assert WebhookTrigger(events=("push",), paths=("deploy/**",)).matches(facts)
