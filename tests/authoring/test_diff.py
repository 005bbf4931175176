"""`aegis policy diff` through the CLI, against the real OPA: which calls it lists, and that it lists
no call that cannot happen."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gateway.authoring.diff import OTHER_REPOSITORY, UNLISTED_KEY
from gateway.cli import main
from gateway.tools import default_registry
from tests.processes import Simulator

TOOLS = {bound.tool.name: bound for bound in default_registry()}
DOCS_BOT = "roles:\n  docs-bot: {capabilities: [read]}\nprincipals:\n  docs-1: {roles: [docs-bot]}\n"


@pytest.fixture(autouse=True)
def opa(opa_bin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEGIS_OPA_BIN", opa_bin)


def diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, *extra: str
) -> tuple[int, list[list[str]], str]:
    """Exit code, each line's words (principal, tool, repository, path, ...), and stderr."""
    (tmp_path / "old.yaml").write_text(old)
    (tmp_path / "new.yaml").write_text(new)
    code = main(
        ["policy", "diff", str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml"), "--write-mode", *extra]
    )
    out, err = capsys.readouterr()
    return code, [line.split() for line in out.splitlines()], err


def rows(lines: list[list[str]]) -> set[tuple[str, str, str, str]]:
    return {(words[0], words[1], words[2], words[3]) for words in lines}


def checkout(directory: Path, files: list[str]) -> Path:
    directory.mkdir()
    for name in files:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text("x\n")
    git = ["git", "-C", str(directory), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "tree"], check=True)
    return directory


def assert_possible(lines: list[list[str]]) -> None:
    """Every row is a call the gateway can receive: a repository exactly for the tools that take one, a
    path for the tools that take one or show paths in their result, never a missing required path."""
    assert lines
    for _, tool, repo, path, *_ in lines:
        bound = TOOLS[tool]
        assert (repo != "-") == bound.tool.repo_scoped, (tool, repo)
        takes_path = bound.tool.path_arg is not None or bound.tool.shows_paths
        assert takes_path or path == "-", (tool, path)
        assert path != "-" or bound.tool.path_arg not in bound.schema.get("required", []), (tool, path)


def test_an_allowlist_shows_the_real_files_it_takes_away(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = checkout(tmp_path / "app", ["README.md", "src/main.py", "src/util/strings.py", "docs/guide.md"])
    old = "repositories:\n  acme/app: {}\n"
    new = 'repositories:\n  acme/app:\n    paths: {allow: ["docs/**"]}\n'
    code, lines, _ = diff(tmp_path, capsys, old, new, "--tree", f"acme/app={tree}")
    assert code == 1
    assert_possible(lines)
    got = {(tool, path) for principal, tool, repo, path in rows(lines) if principal == UNLISTED_KEY}
    # README.md stands for every path outside docs/.
    assert ("get_file_contents", "README.md") in got
    assert ("get_file_tree", "README.md") in got
    assert {path for _, path in got} == {"README.md"}
    readme = next(words for words in lines if words[1] == "get_file_contents" and words[0] == UNLISTED_KEY)
    # README.md, src, src/main.py, src/util, src/util/strings.py and the sample docsx/x
    assert " ".join(readme[4:]) == "(+5 alike) allow -> deny (now: repo.acme/app.paths.allow)"
    assert all(words[2] == "acme/app" for words in lines)  # docs/ and the other repositories: unchanged


def test_the_tree_is_read_at_the_ref_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = checkout(tmp_path / "app", ["docs/guide.md"])
    git = ["git", "-C", str(tree), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "tag", "v1"], check=True)
    (tree / "LICENSE").write_text("x\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "more"], check=True)
    new = 'repositories:\n  acme/app:\n    paths: {allow: ["docs/**"]}\n'
    _, at_head, _ = diff(tmp_path, capsys, "{}\n", new, "--tree", f"acme/app={tree}")
    _, at_v1, _ = diff(tmp_path, capsys, "{}\n", new, "--tree", f"acme/app@v1={tree}")
    assert {words[3] for words in at_head} == {"LICENSE"}
    assert "LICENSE" not in {words[3] for words in at_v1}


def test_a_role_allowlist_changes_its_holders_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = DOCS_BOT + "repositories:\n  acme/app: {}\n"
    new = (
        DOCS_BOT
        + 'repositories:\n  acme/app:\n    paths:\n      roles:\n        docs-bot: {allow: ["docs/**"]}\n'
    )
    code, lines, _ = diff(tmp_path, capsys, old, new)
    assert code == 1
    assert_possible(lines)
    assert {words[0] for words in lines} == {"docs-1"}
    assert {(words[2], words[3]) for words in lines} == {("acme/app", "README.md")}
    assert all("repo.acme/app.paths.roles.docs-bot.allow)" in words[-1] for words in lines)


def test_obligations_and_branches_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    defaults = "defaults: {read: allow, write: allow}\n"
    old = defaults + 'write:\n  repositories: [acme/app]\n  branches: ["aegis/**"]\n'
    new = (
        defaults
        + 'write:\n  repositories: [acme/app]\n  branches: ["aegis/**", main]\n'
        + "  require_approval: [create_pull_request]\n"
        + "repositories:\n  acme/app:\n    limits: {max_file_bytes: 100}\n"
    )
    _, lines, _ = diff(tmp_path, capsys, old, new)
    assert_possible(lines)
    said = [" ".join(words) for words in lines if words[0] == UNLISTED_KEY]
    assert any(
        line.startswith(
            "unlisted-key create_pull_request acme/app - on branch aegis (+2 alike) allow -> allow,"
            " held for approval"
        )
        and "approval write.require_approval[0]" in line
        for line in said
    )
    assert any(
        line.startswith("unlisted-key create_branch acme/app - on branch main deny -> allow")
        and "write.branches[1]" in line
        for line in said
    )
    assert any(
        line.startswith("unlisted-key get_file_contents acme/app ")
        and "allow -> allow, max_file_bytes 100" in line
        for line in said
    )
    assert not any(f" {OTHER_REPOSITORY} " in line and "max_file_bytes" in line for line in said)


def test_tools_the_gateway_does_not_serve_are_named_not_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = diff(tmp_path, capsys, "{}\n", "tools: {deny: [no_such_tool]}\n")
    assert (code, lines) == (0, [])
    assert "not decided, the gateway serves no such tool: no_such_tool" in err


def test_the_tree_of_a_gitea_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AEGIS_GITEA_URL", simulator.url)
    monkeypatch.setenv("AEGIS_GITEA_TOKEN", simulator.token)
    new = 'repositories:\n  acme/app:\n    paths: {deny: ["**/*.py"]}\n'
    _, lines, _ = diff(tmp_path, capsys, "{}\n", new, "--tree", "acme/app")
    assert_possible(lines)
    # The Python files of the default branch and the samples of the glob: one class, a real file first.
    shown = {" ".join(words[2:6]) for words in lines if words[1] == "get_file_contents"}
    assert shown == {"acme/app src/main.py (+4 alike)"}  # src/util/strings.py, x.py, x/x.py, x/x/x.py


def test_a_bad_tree_is_refused_with_its_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = diff(tmp_path, capsys, "{}\n", "{}\n", "--tree", "acme")
    assert (code, lines) == (1, [])
    assert "--tree 'acme': expected owner/repo, owner/repo@ref or owner/repo[@ref]=DIR" in err
    code, _, err = diff(tmp_path, capsys, "{}\n", "{}\n", "--tree", f"acme/app={tmp_path}")
    assert code == 1
    assert f"--tree {tmp_path}: git ls-tree failed" in err
