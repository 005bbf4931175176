"""The explorer's charts as SVG drawn on the server: decisions per day by outcome (stacked bars) and the
deny rules most hit (horizontal bars). No script, no style attribute: colours are classes of the
stylesheet, every label escaped."""

from __future__ import annotations

from collections import defaultdict
from html import escape

WIDTH, HEIGHT, MARGIN = 720, 220, 32
BAR_HEIGHT, LABEL_WIDTH = 18, 300
MAX_BAR_WIDTH = 48  # a day's bar, however few days there are
OUTCOMES = ("allowed", "denied", "pending", "invalid", "error")  # in stacking order; the rest: "other"


def per_day_chart(days: list[tuple[str, str, int]]) -> str:
    """Stacked bars, one per day, of (day, outcome, count) rows."""
    if not days:
        return '<p class="empty">No decisions to chart.</p>'
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, outcome, count in days:
        counts[day][outcome if outcome in OUTCOMES else "other"] += count
    ordered = sorted(counts)
    peak = max(sum(by_outcome.values()) for by_outcome in counts.values())
    slot = min((WIDTH - 2 * MARGIN) / len(ordered), MAX_BAR_WIDTH + 2)
    plot = HEIGHT - 2 * MARGIN
    parts = [
        f'<svg class="chart" id="per-day" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        ' aria-label="Decisions per day by outcome">',
        f'<text x="{MARGIN}" y="16" class="axis">{peak} max per day</text>',
    ]
    for number, day in enumerate(ordered):
        x, bottom = MARGIN + number * slot, float(HEIGHT - MARGIN)
        for outcome in (*OUTCOMES, "other"):
            count = counts[day].get(outcome, 0)
            if not count:
                continue
            height = count / peak * plot
            bottom -= height
            parts.append(
                f'<rect class="bar {outcome}" x="{x + 1:.1f}" y="{bottom:.1f}" width="{max(slot - 2, 1):.1f}"'
                f' height="{height:.1f}"><title>{escape(day)}: {count} {outcome}</title></rect>'
            )
    parts.append(f'<text x="{MARGIN}" y="{HEIGHT - 12}" class="axis">{escape(ordered[0])}</text>')
    if len(ordered) > 4:  # room for both labels
        end = MARGIN + len(ordered) * slot
        parts.append(f'<text x="{end:.1f}" y="{HEIGHT - 12}" class="axis end">{escape(ordered[-1])}</text>')
    parts.append("</svg>")
    return "".join(parts) + _legend(counts)


def top_rules_chart(rules: list[tuple[str, int]]) -> str:
    """Horizontal bars of (rule, count) rows, the most hit first."""
    if not rules:
        return '<p class="empty">No denials to chart.</p>'
    peak = rules[0][1]
    height = len(rules) * (BAR_HEIGHT + 6) + 8
    parts = [
        f'<svg class="chart" id="top-rules" viewBox="0 0 {WIDTH} {height}" role="img"'
        ' aria-label="Deny rules most hit">'
    ]
    for number, (rule, count) in enumerate(rules):
        y = 4 + number * (BAR_HEIGHT + 6)
        width = count / peak * (WIDTH - LABEL_WIDTH - 60)
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" class="axis end">{escape(_clipped(rule))}</text>'
            f'<rect class="bar denied" x="{LABEL_WIDTH}" y="{y}" width="{max(width, 1):.1f}"'
            f' height="{BAR_HEIGHT}"><title>{escape(rule)}: {count}</title></rect>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 13}" class="axis">{count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend(counts: dict[str, dict[str, int]]) -> str:
    present = [o for o in (*OUTCOMES, "other") if any(o in by_outcome for by_outcome in counts.values())]
    items = "".join(f'<li><span class="swatch {o}"></span>{o}</li>' for o in present)
    return f'<ul class="legend">{items}</ul>'


def _clipped(text: str, limit: int = 44) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
