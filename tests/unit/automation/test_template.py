"""The template language: field references only, one pass, types kept for a whole-string reference."""

from __future__ import annotations

import pytest

from gateway.automation._template import TemplateError, reference_issues, references, render

SCOPE = {
    "event": {
        "issue": {"number": 7, "title": "Fix {{ event.secret }}", "labels": [{"name": "bug"}, {"name": "ui"}]}
    },
    "trigger": {"repository": "acme/app", "draft": False},
    "steps": {"files": {"result": {"files": [{"filename": "a.py"}, {"filename": "docs/b.md"}]}}},
}


def test_a_whole_reference_keeps_its_type() -> None:
    assert render({"index": "{{ event.issue.number }}", "labels": "{{ event.issue.labels }}"}, SCOPE) == {
        "index": 7,
        "labels": [{"name": "bug"}, {"name": "ui"}],
    }


def test_references_inside_text_are_written_into_it() -> None:
    rendered = render("#{{ event.issue.number }} in {{trigger.repository}}, draft {{ trigger.draft }}", SCOPE)
    assert rendered == "#7 in acme/app, draft false"


def test_a_value_brought_in_is_never_read_as_a_template_again() -> None:
    assert render("title: {{ event.issue.title }}", SCOPE) == "title: Fix {{ event.secret }}"


def test_star_maps_the_rest_of_the_path_over_a_list() -> None:
    assert render("{{ steps.files.result.files.*.filename }}", SCOPE) == ["a.py", "docs/b.md"]
    assert render("{{ event.issue.labels.1.name }}", SCOPE) == "ui"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ event.issue.missing }}", "event.issue has no 'missing'"),
        ("{{ event.issue.labels.5 }}", "event.issue.labels has no '5'"),
        ("in {{ event.issue.labels }}", "is list, which cannot be written into text"),
        ("{{ trigger.repository.* }}", "'*' needs a list"),
    ],
)
def test_a_reference_that_names_nothing_usable_is_an_error(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("*", r"\*")):
        render(template, SCOPE)


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ event.issue.number + 1 }}", "is not a field reference"),
        ("{{ __import__('os') }}", "is not a field reference"),
        ("{{ env.HOME }}", "starts at 'env'"),
        ("{{ event.issue.number", "unbalanced"),
        ("event }}", "unbalanced"),
    ],
)
def test_anything_but_a_field_reference_is_refused_when_loaded(template: str, problem: str) -> None:
    assert any(problem in issue for issue in reference_issues({"a": [template]}))


def test_references_lists_every_well_formed_path() -> None:
    assert sorted(references({"a": "{{ item.x }} {{ steps.s.result }}", "b": ["{{ bad + 1 }}"]})) == [
        ("item", "x"),
        ("steps", "s", "result"),
    ]


def test_a_string_that_begins_and_ends_with_references_is_text() -> None:
    scope = {"trigger": {"owner": "acme", "repo": "web"}}
    assert render("{{ trigger.owner }}/{{ trigger.repo }}", scope) == "acme/web"
    assert render("{{trigger.owner}}{{trigger.repo}}", scope) == "acmeweb"
