"""The diff splitter: real `git diff` output is split into sections with every path they concern, and
anything that does not follow git's format, or whose paths are ambiguous, becomes an unknown section."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.tools._diff import FileDiff, Status, join_diff, split_diff

_GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
}


class Repo:
    """A scratch repository whose trees are replaced whole: `diff` compares the last two commits."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git("init", "-q")
        self.git("config", "user.name", "Test")
        self.git("config", "user.email", "test@example.invalid")
        self.git("commit", "-q", "--allow-empty", "-m", "root")

    def git(self, *args: str) -> bytes:
        return subprocess.run(
            ["git", *args], cwd=self.root, env=_GIT_ENV, check=True, capture_output=True
        ).stdout

    def commit(self, files: Mapping[str, bytes], executable: frozenset[str] = frozenset()) -> None:
        self.git("rm", "-rq", "--ignore-unmatch", "--", ".")
        for name, content in files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            path.chmod(0o755 if name in executable else 0o644)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", "change")

    def diff(self, *flags: str, config: Sequence[str] = ()) -> str:
        return self.git(*config, "diff", *flags, "HEAD~1", "HEAD").decode()

    def name_status(self, *flags: str) -> list[tuple[str, tuple[str, ...]]]:
        """`git diff --name-status -z`: the status letter and path(s) of each file, in diff order."""
        fields = self.git("diff", "--name-status", "-z", *flags, "HEAD~1", "HEAD").split(b"\0")[:-1]
        records: list[tuple[str, tuple[str, ...]]] = []
        while fields:
            letter = fields.pop(0).decode()[0]
            count = 2 if letter in "RC" else 1
            paths, fields = fields[:count], fields[count:]
            records.append((letter, tuple(path.decode() for path in paths)))
        return records


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path)


@dataclasses.dataclass(frozen=True)
class Want:
    status: Status
    old: str | None
    new: str | None
    additions: int = 0
    deletions: int = 0
    binary: bool = False


@dataclasses.dataclass(frozen=True)
class Case:
    note: str
    before: Mapping[str, bytes]
    after: Mapping[str, bytes]
    want: Sequence[Want]
    flags: Sequence[str] = ()
    executable_after: frozenset[str] = frozenset()


TEN = b"".join(b"line %d\n" % n for n in range(10))
TEN_CHANGED = TEN.replace(b"line 5\n", b"line five\n")
BIN = b"\x00\x01\x02binary\xff"
BIN2 = b"\x00\x01\x03binary\xfe"
EVIL = b"diff --git a/evil b/evil\n--- a/evil\n+++ b/evil\n@@ -1 +1 @@\nkeep\n"
EVIL2 = b"diff --git a/evil b/evil\n+++ b/evil\n@@ -9 +9 @@\nkeep\n--- a/x\n+++ b/x\n"

CASES = [
    Case("added", {}, {"a.txt": b"1\n2\n"}, [Want("added", None, "a.txt", 2, 0)]),
    Case(
        "modified",
        {"a.txt": b"1\n2\n3\n"},
        {"a.txt": b"1\nX\n3\n4\n"},
        [Want("modified", "a.txt", "a.txt", 2, 1)],
    ),
    Case("deleted", {"a.txt": b"1\n2\n"}, {}, [Want("deleted", "a.txt", None, 0, 2)]),
    Case("pure_rename", {"old.txt": TEN}, {"new.txt": TEN}, [Want("renamed", "old.txt", "new.txt")], ["-M"]),
    Case(
        "rename_with_changes",
        {"old.txt": TEN},
        {"new.txt": TEN_CHANGED},
        [Want("renamed", "old.txt", "new.txt", 1, 1)],
        ["-M"],
    ),
    Case(
        "rename_without_detection_is_delete_and_add",
        {"old.txt": TEN},
        {"new.txt": TEN},
        [Want("added", None, "new.txt", 10, 0), Want("deleted", "old.txt", None, 0, 10)],
        ["--no-renames"],
    ),
    Case(
        "copy",
        {"src.txt": TEN},
        {"src.txt": TEN, "dst.txt": TEN},
        [Want("copied", "src.txt", "dst.txt")],
        ["-C", "--find-copies-harder"],
    ),
    Case(
        "copy_with_changes",
        {"src.txt": TEN},
        {"src.txt": TEN, "dst.txt": TEN_CHANGED},
        [Want("copied", "src.txt", "dst.txt", 1, 1)],
        ["-C", "--find-copies-harder"],
    ),
    Case(
        "mode_change_only",
        {"run.sh": b"echo\n"},
        {"run.sh": b"echo\n"},
        [Want("modified", "run.sh", "run.sh")],
        executable_after=frozenset({"run.sh"}),
    ),
    Case("empty_file_added", {}, {"empty": b""}, [Want("added", None, "empty")]),
    Case("empty_file_deleted", {"empty": b""}, {}, [Want("deleted", "empty", None)]),
    Case(
        "binary_modified",
        {"b.dat": BIN},
        {"b.dat": BIN2},
        [Want("modified", "b.dat", "b.dat", binary=True)],
    ),
    Case("binary_added", {}, {"b.dat": BIN}, [Want("added", None, "b.dat", binary=True)]),
    Case("binary_deleted", {"b.dat": BIN}, {}, [Want("deleted", "b.dat", None, binary=True)]),
    Case(
        "binary_patch_modified",
        {"b.dat": BIN},
        {"b.dat": BIN2},
        [Want("modified", "b.dat", "b.dat", binary=True)],
        ["--binary"],
    ),
    Case(
        "binary_patch_added",
        {},
        {"b.dat": BIN * 50},
        [Want("added", None, "b.dat", binary=True)],
        ["--binary"],
    ),
    Case(
        "binary_patch_deleted",
        {"b.dat": BIN},
        {},
        [Want("deleted", "b.dat", None, binary=True)],
        ["--binary"],
    ),
    Case(
        "binary_renamed_with_changes",
        {"b 1.dat": BIN * 20},
        {"b 2.dat": BIN * 19 + BIN2},
        [Want("renamed", "b 1.dat", "b 2.dat", binary=True)],
        ["-M"],
    ),
    Case(
        "name_with_spaces",
        {"with space.txt": b"a\n"},
        {"with space.txt": b"b\n"},
        [Want("modified", "with space.txt", "with space.txt", 1, 1)],
    ),
    Case(
        "name_with_b_slash_inside",
        {"x b/y": b"a\n"},
        {"x b/y": b"a\nb\n"},
        [Want("modified", "x b/y", "x b/y", 1, 0)],
    ),
    Case(
        "name_with_b_slash_mode_only",
        {"x b/y b/x b/y": b"a\n"},
        {"x b/y b/x b/y": b"a\n"},
        [Want("modified", "x b/y b/x b/y", "x b/y b/x b/y")],
        executable_after=frozenset({"x b/y b/x b/y"}),
    ),
    Case("name_with_b_slash_empty_added", {}, {"x b/y": b""}, [Want("added", None, "x b/y")]),
    Case(
        "rename_into_b_slash",
        {"x": TEN},
        {"y b/x": TEN},
        [Want("renamed", "x", "y b/x")],
        ["-M"],
    ),
    Case("quote", {}, {'q"uote.txt': b"q\n"}, [Want("added", None, 'q"uote.txt', 1, 0)]),
    Case(
        "quote_mode_only",
        {'q"uote': b"q\n"},
        {'q"uote': b"q\n"},
        [Want("modified", 'q"uote', 'q"uote')],
        executable_after=frozenset({'q"uote'}),
    ),
    Case("tab", {"t\tab": b"t\n"}, {"t\tab": b"u\n"}, [Want("modified", "t\tab", "t\tab", 1, 1)]),
    Case("newline", {}, {"new\nline": b""}, [Want("added", None, "new\nline")]),
    Case("backslash", {"back\\slash": b"x\n"}, {}, [Want("deleted", "back\\slash", None, 0, 1)]),
    Case("control_chars", {}, {"c\x01\x7f\r": b"x\n"}, [Want("added", None, "c\x01\x7f\r", 1, 0)]),
    Case("non_ascii", {}, {"é.txt": b"e\n"}, [Want("added", None, "é.txt", 1, 0)]),
    Case(
        "non_ascii_dir_with_space",
        {"日本/語 b/x.txt": b"a\n"},
        {"日本/語 b/x.txt": b"a\n"},
        [Want("modified", "日本/語 b/x.txt", "日本/語 b/x.txt")],
        executable_after=frozenset({"日本/語 b/x.txt"}),
    ),
    Case(
        "rename_plain_to_non_ascii",
        {"plain name": TEN},
        {"日本 b/é\t.txt": TEN},
        [Want("renamed", "plain name", "日本 b/é\t.txt")],
        ["-M"],
    ),
    Case("content_like_headers_added", {}, {"evil": EVIL}, [Want("added", None, "evil", 5, 0)]),
    Case(
        "content_like_headers_modified",
        {"evil": EVIL},
        {"evil": EVIL2},
        [Want("modified", "evil", "evil", 3, 2)],
    ),
    Case(
        "no_newline_at_end",
        {"n.txt": b"a"},
        {"n.txt": b"b"},
        [Want("modified", "n.txt", "n.txt", 1, 1)],
    ),
    Case(
        "newline_added_at_end",
        {"n.txt": b"a\nb"},
        {"n.txt": b"a\nb\n"},
        [Want("modified", "n.txt", "n.txt", 1, 1)],
    ),
    Case(
        "several_files",
        {"keep": b"k\n", "gone": b"g\n", "old": TEN},
        {"keep": b"k\nk\n", "new file": b"n\n", "moved/old": TEN},
        [
            Want("deleted", "gone", None, 0, 1),
            Want("modified", "keep", "keep", 1, 0),
            Want("renamed", "old", "moved/old"),
            Want("added", None, "new file", 1, 0),
        ],
        ["-M"],
    ),
]


def _paths(want: Want) -> tuple[str, ...]:
    return tuple(dict.fromkeys(path for path in (want.old, want.new) if path is not None))


@pytest.mark.parametrize("case", CASES, ids=[case.note for case in CASES])
def test_real_git_diff_is_split_with_every_path(repo: Repo, case: Case) -> None:
    repo.commit(case.before)
    repo.commit(case.after, case.executable_after)
    diff = repo.diff(*case.flags)

    sections = split_diff(diff)

    got = [(s.paths, s.status, s.old_path, s.new_path, s.additions, s.deletions, s.binary) for s in sections]
    want = [(_paths(w), w.status, w.old, w.new, w.additions, w.deletions, w.binary) for w in case.want]
    assert got == want
    assert all(section.text.startswith("diff --git ") for section in sections)
    assert join_diff(sections) == diff


def test_unquoted_non_ascii_names_are_parsed(repo: Repo) -> None:
    repo.commit({"é.txt": TEN})
    repo.commit({"日本 b/é.txt": TEN})
    diff = repo.diff("-M", config=["-c", "core.quotePath=false"])
    assert "日本" in diff

    sections = split_diff(diff)

    assert [(s.paths, s.status) for s in sections] == [(("é.txt", "日本 b/é.txt"), "renamed")]
    assert join_diff(sections) == diff


def test_submodule_change_is_an_ordinary_hunk(repo: Repo) -> None:
    commit = repo.git("rev-parse", "HEAD").decode().strip()
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{commit},sub module")
    repo.git("commit", "-q", "-m", "submodule")
    diff = repo.diff()
    assert "Subproject commit" in diff

    sections = split_diff(diff)

    assert [(s.paths, s.status, s.additions) for s in sections] == [(("sub module",), "added", 1)]
    assert join_diff(sections) == diff


# Hand-written input: what git does not write must come out as unknown sections.

VALID = (
    "diff --git a/a.txt b/a.txt\n"
    "index 1111111..2222222 100644\n"
    "--- a/a.txt\n"
    "+++ b/a.txt\n"
    "@@ -1,2 +1,2 @@ context\n"
    " same\n"
    "-old\n"
    "+new\n"
)
OTHER = "diff --git a/b.txt b/b.txt\nold mode 100644\nnew mode 100755\n"


def _unknown(text: str) -> FileDiff:
    return FileDiff((), None, None, "unknown", False, 0, 0, text)


def _known(text: str, path: str, additions: int = 0, deletions: int = 0) -> FileDiff:
    return FileDiff((path,), path, path, "modified", False, additions, deletions, text)


def test_the_handwritten_sections_are_valid() -> None:
    assert split_diff(VALID + OTHER) == [_known(VALID, "a.txt", 1, 1), _known(OTHER, "b.txt")]


def test_empty_diff_has_no_sections() -> None:
    assert split_diff("") == []


def test_diff_without_final_newline_round_trips() -> None:
    text = VALID + OTHER.removesuffix("\n")
    assert split_diff(text) == [_known(VALID, "a.txt", 1, 1), _known(OTHER.removesuffix("\n"), "b.txt")]


def test_preamble_is_an_unknown_section() -> None:
    preamble = "From 0123 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] x\n\n---\n a.txt | 2 +-\n\n"
    assert split_diff(preamble + VALID) == [_unknown(preamble), _known(VALID, "a.txt", 1, 1)]


def test_garbage_after_a_section_makes_it_unknown_up_to_the_next_file() -> None:
    text = VALID + "garbage\n+more\n" + OTHER
    assert split_diff(text) == [_unknown(VALID + "garbage\n+more\n"), _known(OTHER, "b.txt")]


def test_truncated_hunk_is_unknown() -> None:
    text = VALID.removesuffix("+new\n")
    assert split_diff(text) == [_unknown(text)]


def test_truncated_hunk_before_the_next_file_is_unknown_and_the_next_file_parsed() -> None:
    truncated = VALID.removesuffix("+new\n")
    assert split_diff(truncated + OTHER) == [_unknown(truncated), _known(OTHER, "b.txt")]


def test_header_lookalike_inside_a_hunk_is_content() -> None:
    hunk = "@@ -1 +1,4 @@\n-x\n+diff --git a/evil b/evil\n+--- a/evil\n++++ b/evil\n+@@ -1 +1 @@\n"
    text = VALID.replace("@@ -1,2 +1,2 @@ context\n same\n-old\n+new\n", hunk)
    assert split_diff(text) == [_known(text, "a.txt", 4, 1)]


def test_long_unquoted_names_parse_in_linear_time() -> None:
    name = "x" + " b/" * 200_000 + "y"
    text = f"diff --git a/{name} b/{name}\nold mode 100644\nnew mode 100755\n"
    assert split_diff(text) == [_known(text, name)]


def test_names_quoted_on_one_side_only_are_resolved() -> None:
    text = (
        'diff --git a/plain "b/sp\\303\\251cial\\t"\n'
        "similarity index 100%\n"
        "rename from plain\n"
        'rename to "sp\\303\\251cial\\t"\n'
    )
    assert split_diff(text) == [
        FileDiff(("plain", "spécial\t"), "plain", "spécial\t", "renamed", False, 0, 0, text)
    ]


MALFORMED = {
    "minus_disagrees_with_git_line": VALID.replace("--- a/a.txt", "--- a/x.txt"),
    "plus_disagrees_with_git_line": VALID.replace("+++ b/a.txt", "+++ b/x.txt"),
    "minus_and_plus_disagree_with_each_other": "diff --git a/x b/y\n--- a/x\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n",
    "minus_and_plus_agree_but_not_git_line": VALID.replace("a/a.txt", "a/x").replace("b/a.txt", "b/x", 1),
    "deleted_without_deleted_header": VALID.replace("+++ b/a.txt", "+++ /dev/null"),
    "added_without_added_header": VALID.replace("--- a/a.txt", "--- /dev/null"),
    "added_header_with_old_side": VALID.replace("index", "new file mode 100644\nindex"),
    "deleted_header_with_new_side": VALID.replace("index", "deleted file mode 100644\nindex"),
    "both_sides_dev_null": "diff --git a/x b/x\n--- /dev/null\n+++ /dev/null\n@@ -1 +1 @@\n-a\n+b\n",
    "rename_disagrees_with_git_line": "diff --git a/x b/y\nrename from x\nrename to z\n",
    "rename_disagrees_with_minus": "diff --git a/x b/y\nrename from x\nrename to y\n--- a/q\n+++ b/y\n"
    "@@ -1 +1 @@\n-a\n+b\n",
    "rename_from_without_rename_to": "diff --git a/x b/y\nrename from x\n",
    "rename_and_copy": "diff --git a/x b/y\nrename from x\nrename to y\ncopy from x\ncopy to y\n",
    "added_and_deleted": "diff --git a/x b/x\nnew file mode 100644\ndeleted file mode 100644\n",
    "duplicate_header": OTHER + "old mode 100644\n",
    "unknown_extended_header": OTHER.replace("old mode", "weird mode"),
    "malformed_mode": OTHER.replace("100755", "755"),
    "ambiguous_git_line_without_other_source": "diff --git a/x b/y b/z\nold mode 100644\nnew mode 100755\n",
    "different_paths_without_other_source": "diff --git a/x b/y\nold mode 100644\nnew mode 100755\n",
    "missing_prefixes": "diff --git x x\nold mode 100644\nnew mode 100755\n",
    "empty_paths": "diff --git a/ b/\nold mode 100644\nnew mode 100755\n",
    "bad_escape": 'diff --git "a/x\\q" "b/x\\q"\nold mode 100644\nnew mode 100755\n',
    "unterminated_quote": 'diff --git "a/x "b/x\nold mode 100644\nnew mode 100755\n',
    "not_utf8_escape": 'diff --git "a/\\377" "b/\\377"\nold mode 100644\nnew mode 100755\n',
    "raw_control_char_in_bare_name": "diff --git a/x\x01 b/x\x01\nold mode 100644\nnew mode 100755\n",
    "raw_quote_in_bare_name": 'diff --git a/x"y b/x"y\nold mode 100644\nnew mode 100755\n',
    "binary_line_disagrees": "diff --git a/x b/x\nindex 1111..2222 100644\nBinary files a/y and b/y differ\n",
    "binary_line_says_added": "diff --git a/x b/x\nindex 1111..2222 100644\n"
    "Binary files /dev/null and b/x differ\n",
    "binary_line_cut": "diff --git a/x b/x\nindex 1111..2222 100644\nBinary files a/x and b/x\n",
    "binary_patch_without_blocks": "diff --git a/x b/x\nindex 1111..2222 100644\nGIT binary patch\n",
    "binary_patch_without_end": "diff --git a/x b/x\nindex 1111..2222 100644\nGIT binary patch\nliteral 5\n"
    "McmZQzO3KUw00MIXJOBUy\n",
    "combined_diff": "diff --cc a.txt\nindex 1111,2222..3333\n--- a/a.txt\n+++ b/a.txt\n",
    "crlf_headers": VALID.replace("\n", "\r\n"),
    "hunk_without_minus_plus": "diff --git a/x b/x\n@@ -1 +1 @@\n-a\n+b\n",
    "minus_without_plus": "diff --git a/x b/x\n--- a/x\n@@ -1 +1 @@\n-a\n+b\n",
    "malformed_hunk_header": VALID.replace("@@ -1,2 +1,2 @@", "@@ -1,2 +1,2"),
    "huge_hunk_count": VALID.replace("@@ -1,2 +1,2", "@@ -1,99999999999 +1,2"),
    "context_beyond_old_count": VALID.replace("@@ -1,2 +1,2", "@@ -1 +1,2"),
    "blank_line_in_hunk": VALID.replace(" same\n", "\n"),
    "no_newline_marker_first": VALID.replace(" same\n", "\\ No newline at end of file\n same\n"),
    "other_backslash_line": VALID + "\\ something else\n",
    "extra_hunk_lines": VALID + "+extra\n",
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_section_is_unknown(text: str) -> None:
    assert split_diff(text) == [_unknown(text)]


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_section_does_not_affect_the_next_file(text: str) -> None:
    assert split_diff(text + OTHER) == [_unknown(text), _known(OTHER, "b.txt")]


# Property: whatever the names, the sections name exactly what `git diff --name-status` lists.

_FRAGMENTS = ["a", "b", " ", "x b", '"', "\\", "\t", "\n", "\r", "é", "日本", "\x01", "\x7f", "😀", "-"]
_COMPONENT = st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=4).map("".join)
_PATH = st.lists(_COMPONENT, min_size=1, max_size=2).map("/".join)
_CONTENTS = [b"", b"one\n", TEN, TEN_CHANGED, b"no newline", BIN, BIN * 20]
_FLAGS = [(), ("-M",), ("-M", "-C", "--find-copies-harder"), ("--binary", "-M"), ("--no-renames",)]
_LETTERS = {"A": "added", "D": "deleted", "M": "modified", "R": "renamed", "C": "copied"}


def _no_file_is_a_directory(paths: list[str]) -> bool:
    return not any(other.startswith(path + "/") for path in paths for other in paths)


@st.composite
def _trees(draw: st.DrawFn) -> tuple[dict[str, tuple[bytes, bool]], ...]:
    """Two trees over a few names: the second applies an action to each file of the first."""
    names = draw(st.lists(_PATH, min_size=2, max_size=6, unique=True).filter(_no_file_is_a_directory))
    files = st.tuples(st.sampled_from(_CONTENTS), st.booleans())
    # The first tree uses half the names, so that moves and copies can go to new ones.
    before = draw(st.dictionaries(st.sampled_from(names[: len(names) // 2]), files, min_size=1))
    after = dict(before)
    for name, file in before.items():
        action = draw(st.sampled_from(["keep", "change", "delete", "move", "copy"]))
        if action == "change":
            after[name] = draw(files)
        if action in ("delete", "move"):
            after.pop(name, None)
        if action in ("move", "copy"):
            after[draw(st.sampled_from(names[len(names) // 2 :]))] = file
    return before, after


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees=_trees(), flags=st.sampled_from(_FLAGS))
def test_sections_match_git_name_status(
    trees: tuple[dict[str, tuple[bytes, bool]], ...], flags: tuple[str, ...]
) -> None:
    with tempfile.TemporaryDirectory() as root:
        repo = Repo(Path(root))
        for tree in trees:
            repo.commit(
                {name: content for name, (content, _) in tree.items()},
                frozenset(name for name, (_, executable) in tree.items() if executable),
            )
        diff = repo.diff(*flags)
        sections = split_diff(diff)

        assert [(s.status, s.paths) for s in sections] == [
            (_LETTERS[letter], paths) for letter, paths in repo.name_status(*flags)
        ]
        assert join_diff(sections) == diff
