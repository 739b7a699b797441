"""Server-rendered SVG charts (the CSP allows no inline script or style; SVG presentation attributes are
markup, not style). Every label is escaped here, so templates output the result with ``| safe``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from html import escape

INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
BAR = "#2563eb"
LINE = "#dc2626"
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _fmt(value: float) -> str:
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k"
    if abs(value) >= 1000:
        return f"{value / 1000:,.1f}k"
    return f"{value:,.0f}"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _empty(width: int, height: int, title: str) -> str:
    return _svg(width, height, title, [
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{MUTED}" {FONT}>No data yet</text>'
    ])  # fmt: skip


def histogram(values: Sequence[Decimal | float], *, title: str, currency: str, bins: int = 12,
              width: int = 560, height: int = 220) -> str:  # fmt: skip
    """Price distribution. Bins span the 2nd-98th percentile so one outlier cannot flatten the rest."""
    data = sorted(float(v) for v in values)
    if not data:
        return _empty(width, height, title)
    low = data[int(0.02 * (len(data) - 1))]
    high = data[int(0.98 * (len(data) - 1))]
    if high <= low:
        high = low + 1
    step = (high - low) / bins
    counts = [0] * bins
    for value in data:
        index = min(bins - 1, max(0, int((value - low) / step)))
        counts[index] += 1
    top = max(counts) or 1
    left, bottom, right, top_pad = 40, 30, 10, 10
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    bar_w = plot_w / bins
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="{GRID}"/>'
    ]
    for i, count in enumerate(counts):
        h = plot_h * count / top
        x = left + i * bar_w
        y = height - bottom - h
        start, end = low + i * step, low + (i + 1) * step
        body.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" fill="{BAR}">'
            f"<title>{escape(currency)} {_fmt(start)}-{_fmt(end)}: {count}</title></rect>"
        )
    for i in range(0, bins + 1, max(1, bins // 4)):
        x = left + i * bar_w
        body.append(
            f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle" fill="{MUTED}" {FONT}>{_fmt(low + i * step)}</text>'
        )
    body.append(
        f'<text x="{left - 6}" y="{top_pad + 8}" text-anchor="end" fill="{MUTED}" {FONT}>{top}</text>'
    )
    body.append(
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" fill="{MUTED}" {FONT}>0</text>'
    )
    return _svg(width, height, title, body)


def line_chart(points: Sequence[tuple[str, float | None]], *, title: str, counts: Sequence[int] | None = None,
               width: int = 560, height: int = 220) -> str:  # fmt: skip
    """A value per day (median price) as a line, with the day's listing count as faint bars behind it."""
    known = [(label, value) for label, value in points if value is not None]
    if not known:
        return _empty(width, height, title)
    left, bottom, right, top_pad = 48, 30, 10, 10
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    values = [v for _, v in known]
    low, high = min(values), max(values)
    if math.isclose(low, high):
        low, high = low * 0.9, high * 1.1 + 1
    n = len(points)
    step = plot_w / max(1, n - 1) if n > 1 else 0
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="{GRID}"/>'
    ]
    if counts:
        most = max(counts) or 1
        bar_w = max(2.0, plot_w / max(1, n) - 2)
        for i, count in enumerate(counts):
            h = plot_h * count / most
            x = left + (i * step if n > 1 else plot_w / 2) - bar_w / 2
            body.append(f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                        f'fill="{GRID}"><title>{count} listings</title></rect>')  # fmt: skip
    coords = []
    for i, (label, value) in enumerate(points):
        if value is None:
            continue
        x = left + (i * step if n > 1 else plot_w / 2)
        y = height - bottom - plot_h * (value - low) / (high - low)
        coords.append((x, y, label, value))
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, _, _) in enumerate(coords))
    body.append(f'<path d="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for x, y, label, value in coords:
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LINE}"><title>{escape(label)}: {_fmt(value)}</title></circle>'
        )
    body.append(
        f'<text x="{left - 6}" y="{top_pad + 8}" text-anchor="end" fill="{MUTED}" {FONT}>{_fmt(high)}</text>'
    )
    body.append(
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" fill="{MUTED}" {FONT}>{_fmt(low)}</text>'
    )
    body.append(f'<text x="{left}" y="{height - 12}" fill="{MUTED}" {FONT}>{escape(points[0][0])}</text>')
    body.append(
        f'<text x="{width - right}" y="{height - 12}" text-anchor="end" fill="{MUTED}" {FONT}>{escape(points[-1][0])}</text>'
    )
    return _svg(width, height, title, body)


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, width: int = 560, row: int = 22) -> str:
    """Horizontal bars, e.g. listings per brand."""
    if not items:
        return _empty(width, 120, title)
    label_w, right = 140, 50
    height = row * len(items) + 10
    top = max(v for _, v in items) or 1
    body = []
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        w = (width - label_w - right) * value / top
        body.append(
            f'<text x="{label_w - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end" fill="{INK}" {FONT}>{escape(label[:22])}</text>'
        )
        body.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{BAR}"><title>{escape(label)}: {_fmt(value)}</title></rect>'
        )
        body.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + row / 2 + 4:.1f}" fill="{MUTED}" {FONT}>{_fmt(value)}</text>'
        )
    return _svg(width, height, title, body)
