"""The policy archive: every revision served, with its YAML and bundle, found by a unique prefix."""

from __future__ import annotations

from gateway.state import Database, PolicyArchive

REVISION = "3f1c2a9b" + "0" * 56
OTHER = "3f1c2a9c" + "1" * 56


async def test_a_saved_revision_is_found_whole_or_by_its_prefix(db: Database) -> None:
    now = [100.0]
    archive = PolicyArchive(db, clock=lambda: now[0])
    await archive.save(
        REVISION, source=b"defaults: {read: allow}\n", source_sha256="ab", bundle=b"tgz", file="p.yaml"
    )
    now[0] = 200.0
    await archive.save(
        REVISION, source=b"defaults: {read: allow}\n", source_sha256="ab", bundle=b"tgz", file="q.yaml"
    )
    for name in (REVISION, REVISION[:8], REVISION.upper()):
        found = await archive.get(name)
        assert found is not None and found.source == b"defaults: {read: allow}\n" and found.bundle == b"tgz"
    assert found.first_loaded == 100.0 and found.last_loaded == 200.0 and found.file == "q.yaml"
    assert [policy.revision for policy in await archive.list()] == [REVISION]


async def test_an_ambiguous_short_or_unknown_name_finds_nothing(db: Database) -> None:
    archive = PolicyArchive(db)
    await archive.save(REVISION, source=None, source_sha256=None, bundle=b"a", file="bundle.tar.gz")
    await archive.save(OTHER, source=None, source_sha256=None, bundle=b"b", file="bundle.tar.gz")
    assert await archive.get("3f1c2a9") is None  # shorter than 8 hex digits
    assert await archive.get("3f1c2a9b3f") is None  # no such revision
    assert await archive.get("3f1c2a9" + "b") is not None
    assert await archive.get("not-hex!") is None
    found = await archive.get("3f1c2a9c")
    assert found is not None and found.source is None and found.bundle == b"b"
    async with db.transaction() as tx:  # two revisions under one prefix: neither is meant
        await tx.execute(
            "UPDATE policy_revisions SET revision = ? WHERE revision = ?", (REVISION[:9] + "f" * 55, OTHER)
        )
    assert await archive.get(REVISION[:8]) is None


async def test_a_reasons_source_names_a_line_of_the_archived_yaml(db: Database) -> None:
    archive = PolicyArchive(db)
    await archive.save(REVISION, source=b"a: 1\n  b: [src/**]\n", source_sha256="ab", bundle=b"t", file="p")
    await archive.save(OTHER, source=None, source_sha256=None, bundle=b"t", file="bundle.tar.gz")
    found, prebuilt = await archive.get(REVISION), await archive.get(OTHER)
    assert found is not None and prebuilt is not None
    assert found.line("policy.yaml:2") == (2, "  b: [src/**]")
    assert [found.line(s) for s in ("policy.yaml:3", "policy.yaml:0", "policy.yaml:x", None, "p")] == [
        None
    ] * 5
    assert prebuilt.line("policy.yaml:1") is None
