"""What an operator reads matches what the gateway has: every metric it exports is in
docs/operations.md's table, and every setting it reads is in the README's."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.observability.metrics import Metrics

REPO = Path(__file__).resolve().parents[2]


def test_every_metric_is_in_the_operations_table() -> None:
    families = Metrics.create().registry.collect()
    names = {family.name + "_total" if family.type == "counter" else family.name for family in families}
    table = set(re.findall(r"^\| `(aegis_\w+)` \|", (REPO / "docs/operations.md").read_text(), re.M))
    assert names == table


def test_every_setting_the_code_reads_is_in_the_readme() -> None:
    code = "".join((REPO / "gateway" / name).read_text() for name in ("config.py", "oauth_config.py"))
    read = set(re.findall(r"AEGIS_[A-Z0-9_]+", code))
    readme = set(re.findall(r"AEGIS_[A-Z0-9_]+", (REPO / "README.md").read_text()))
    assert read - readme == set()
