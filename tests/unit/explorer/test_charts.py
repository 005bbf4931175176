"""The explorer's charts: SVG drawn from the index's counts, bars in proportion, labels escaped."""

from __future__ import annotations

import re

from gateway.explorer._charts import per_day_chart, top_rules_chart


def test_each_day_stacks_its_outcomes_in_proportion_to_the_busiest_day() -> None:
    svg = per_day_chart(
        [("2026-12-01", "allowed", 30), ("2026-12-01", "denied", 10), ("2026-12-02", "allowed", 20)]
    )
    heights = [float(h) for h in re.findall(r'class="bar \w+"[^>]* height="([\d.]+)"', svg)]
    assert heights == [117.0, 39.0, 78.0]  # 30 and 10 of the peak 40 over 156 pixels; then 20
    assert "<title>2026-12-01: 10 denied</title>" in svg and 'class="swatch denied"' in svg
    assert per_day_chart([]) == '<p class="empty">No decisions to chart.</p>'


def test_rules_are_ranked_and_their_names_escaped() -> None:
    svg = top_rules_chart([("repo.<x>/y.paths.deny[0]", 4), ("defaults.read", 2)])
    assert "repo.&lt;x&gt;/y.paths.deny[0]" in svg and "<x>" not in svg
    widths = [float(w) for w in re.findall(r'<rect class="bar denied"[^>]* width="([\d.]+)"', svg)]
    assert widths == [360.0, 180.0]
    assert top_rules_chart([]) == '<p class="empty">No denials to chart.</p>'
