"""Charts drawn at build time as SVG a screen reader can read: each has a title and a description
that says every number in words, and the page shows the same numbers as a table beside it.

A chart is a list of bars, each a share of a whole (0–100 %), optionally with a target marked on
it. Nothing here decides a number; the plugin passes counts taken from the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

WIDTH, LABEL, BAR, ROW = 720, 210, 330, 40


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    of: int
    target: str | None = None  # a target percentage, as recorded

    @property
    def percent(self) -> Decimal | None:
        if not self.of:
            return None
        return (Decimal(self.count) * 100 / Decimal(self.of)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def words(self) -> str:
        share = "无可计算的机构" if self.percent is None else f"{self.count} 家，占 {self.of} 家的 {self.percent}%"
        goal = f"，目标 {self.target}%{'，已达到' if self.met else '，未达到'}" if self.target is not None else ""
        return f"{self.label}：{share}{goal}"

    @property
    def met(self) -> bool | None:
        if self.target is None or self.percent is None:
            return None
        return self.percent >= Decimal(self.target)


def bar_chart(chart_id: str, title: str, bars: list[Bar]) -> str:
    """The SVG of one chart (markup, every text escaped)."""
    height = ROW * len(bars) + 30
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape("；".join(b.words for b in bars))}。</desc>',
    ]
    for n, bar in enumerate(bars):
        y = 10 + n * ROW
        share = float(bar.percent or 0)
        parts.append(f'<text x="{LABEL - 8}" y="{y + 20}" text-anchor="end" class="label">{escape(bar.label)}</text>')
        parts.append(f'<rect x="{LABEL}" y="{y + 6}" width="{BAR}" height="20" class="track"/>')
        parts.append(f'<rect x="{LABEL}" y="{y + 6}" width="{BAR * share / 100:.1f}" height="20" class="fill"/>')
        value = "—" if bar.percent is None else f"{bar.percent}%"
        parts.append(f'<text x="{LABEL + BAR + 8}" y="{y + 20}" class="value">{value}（{bar.count}/{bar.of}）</text>')
        if bar.target is not None:
            x = LABEL + BAR * float(Decimal(bar.target)) / 100
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y + 1}" y2="{y + 31}" class="target"/>')
    if any(b.target is not None for b in bars):
        parts.append(f'<line x1="{LABEL + 4}" x2="{LABEL + 4}" y1="{height - 18}" y2="{height - 2}" class="target"/>'
                     f'<text x="{LABEL + 14}" y="{height - 5}" class="legend">竖线为工作目标</text>')
    parts.append("</svg>")
    return "".join(parts)
