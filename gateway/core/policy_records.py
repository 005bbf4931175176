"""Each policy revision that begins to serve is archived (its YAML and bundle, by revision) and audited
as a `policy_loaded` entry, before the first call is decided under it. Either failing refuses the
policy: a decision must never name a revision a reviewer cannot read."""

from __future__ import annotations

import logging

from gateway.audit import AuditLog, Entry
from gateway.opa import LoadedPolicy
from gateway.state import PolicyArchive

log = logging.getLogger(__name__)


class PolicyRecords:
    def __init__(self, *, archive: PolicyArchive, audit: AuditLog) -> None:
        self._archive = archive
        self._audit = audit

    async def record(self, loaded: LoadedPolicy) -> None:
        await self._archive.save(
            loaded.revision,
            source=loaded.source,
            source_sha256=loaded.source_sha256,
            bundle=loaded.bundle,
            file=str(loaded.file),
        )
        await self._audit.append(
            Entry(
                event="policy_loaded",
                outcome="loaded",
                bundle_revision=loaded.revision,
                detail={
                    "policy": {
                        "revision": loaded.revision,
                        "source_sha256": loaded.source_sha256,
                        "file": str(loaded.file),
                        "previous_revision": loaded.previous_revision,
                        "loaded_by": f"gateway {loaded.cause}",
                    }
                },
            )
        )
        log.info("policy recorded", extra={"bundle_revision": loaded.revision, "cause": loaded.cause})
