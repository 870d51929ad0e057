"""Inline SVG charts built from numbers only (no data text enters the markup unescaped)."""

from __future__ import annotations

from html import escape

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def heatmap(cells: list[dict], title: str) -> str:
    """Hour-of-day x weekday counts as a 24 x 7 grid."""
    grid = [[0] * 24 for _ in range(7)]
    for c in cells:
        grid[int(c["dow"])][int(c["hour"])] += int(c["n"])
    top = max(1, max(max(r) for r in grid))
    cw, ch, left, topm = 18, 16, 36, 18
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{left + 24 * cw + 4}" '
             f'height="{topm + 7 * ch + 20}" xmlns="http://www.w3.org/2000/svg">']
    for h in range(0, 24, 3):
        parts.append(f'<text x="{left + h * cw + 2}" y="12" font-size="10">{h:02d}</text>')
    for d in range(7):
        parts.append(f'<text x="0" y="{topm + d * ch + 12}" font-size="10">{DAYS[d]}</text>')
        for h in range(24):
            v = grid[d][h]
            shade = int(255 - 215 * (v / top))
            parts.append(f'<rect x="{left + h * cw}" y="{topm + d * ch}" width="{cw - 1}" height="{ch - 1}" '
                         f'fill="rgb({shade},{shade},255)"><title>{DAYS[d]} {h:02d}:00 — {v} posts</title></rect>')
    parts.append(f'<text x="{left}" y="{topm + 7 * ch + 14}" font-size="10">{escape(title)}</text></svg>')
    return "".join(parts)


def timeline(days: list[dict], title: str) -> str:
    """Posts per day as bars."""
    if not days:
        return ""
    top = max(int(d["n"]) for d in days)
    bw = max(2, min(14, 700 // max(1, len(days))))
    height = 90
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{len(days) * bw + 40}" '
             f'height="{height + 30}" xmlns="http://www.w3.org/2000/svg">']
    for i, d in enumerate(days):
        h = int(height * int(d["n"]) / max(1, top))
        parts.append(f'<rect x="{30 + i * bw}" y="{height - h + 5}" width="{bw - 1}" height="{h}" fill="#4a6fa5">'
                     f'<title>{escape(str(d["day"]))}: {int(d["n"])} posts</title></rect>')
    parts.append(f'<text x="0" y="12" font-size="10">{top}</text>'
                 f'<text x="30" y="{height + 22}" font-size="10">{escape(str(days[0]["day"]))} … '
                 f'{escape(str(days[-1]["day"]))} ({escape(title)})</text></svg>')
    return "".join(parts)
