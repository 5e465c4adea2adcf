"""The event-loop stalls as an inline SVG bar chart: one bar per stall, its height the seconds blocked."""

from __future__ import annotations

import math
import time
from html import escape

from flake8_fastapi_antipatterns.report.model import Finding

MAX_BARS = 80

_WIDTH, _HEIGHT = 960, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 20, 28, 56
_COLOURS = {"FAA101": "#7c3aed", "FAA102": "#ea580c"}
_LABELS = {"FAA101": "FAA101 database call", "FAA102": "FAA102 other blocking call"}


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 4, 6 or 8 times a power of ten that is at least ``value`` (quarters stay round)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 4.0, 6.0, 8.0):
        if step * power >= value - 1e-12:
            return step * power
    return 10.0 * power


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def _clock(stamp: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(stamp))


def _bar_title(finding: Finding, seconds: float) -> str:
    d = finding.diagnostic
    parts = [f"{d.code}: {_seconds(seconds)}"]
    function = d.details.get("function")
    if isinstance(function, str):
        parts.append(f"in {function}")
    route = d.details.get("route")
    if isinstance(route, str):
        method = d.details.get("method")
        parts.append(f"on {method} {route}" if isinstance(method, str) else f"on {route}")
    if finding.count > 1:
        parts.append(f"seen {finding.count}×")
    if finding.time is not None:
        parts.append(f"at {_clock(finding.time)}")
    parts.append(f"({d.filename}:{d.line})")
    return " ".join(parts)


def select_stalls(stalls: list[Finding]) -> tuple[list[Finding], bool]:
    """The stalls to draw, in time order when every one has a time (else as read), and whether time ordered them."""
    by_time = all(f.time is not None for f in stalls)
    ordered = sorted(stalls, key=lambda f: f.time or 0.0) if by_time else list(stalls)
    if len(ordered) > MAX_BARS:
        longest = sorted(range(len(ordered)), key=lambda i: -(ordered[i].stall_seconds or 0.0))[:MAX_BARS]
        ordered = [ordered[i] for i in sorted(longest)]
    return ordered, by_time


def stall_chart(stalls: list[Finding]) -> str:
    """The ``<svg>`` element (empty string when there are no stalls)."""
    drawn, by_time = select_stalls(stalls)
    if not drawn:
        return ""
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    top = _nice_ceiling(max(f.stall_seconds or 0.0 for f in drawn))
    slot = plot_w / len(drawn)
    bar_w = max(min(slot * 0.62, 56.0), 2.0)
    out = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'aria-labelledby="stall-chart-title">',
        f'<title id="stall-chart-title">Event-loop stalls: {len(drawn)} shown, tallest {_seconds(top)} scale</title>',
    ]
    for i in range(5):
        value = top * i / 4
        y = _TOP + plot_h - plot_h * i / 4
        out.append(f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{_WIDTH - _RIGHT}" y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{value:g} s</text>')
    out.append(
        f'<text class="axis" x="16" y="{_TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {_TOP + plot_h / 2:.1f})">loop blocked (s)</text>'
    )
    label_every = max(1, math.ceil(len(drawn) / 16))
    for index, finding in enumerate(drawn):
        seconds = finding.stall_seconds or 0.0
        height = max(plot_h * seconds / top, 1.5)
        x = _LEFT + slot * index + (slot - bar_w) / 2
        y = _TOP + plot_h - height
        colour = _COLOURS.get(finding.diagnostic.code, "#64748b")
        centre = x + bar_w / 2
        out.append(f'<g class="bar"><title>{escape(_bar_title(finding, seconds))}</title>')
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" rx="3" fill="{colour}"/>')
        if len(drawn) <= 24:
            label = _seconds(seconds) + (f" ×{finding.count}" if finding.count > 1 else "")
            out.append(
                f'<text class="value" x="{centre:.1f}" y="{y - 6:.1f}" text-anchor="middle">{escape(label)}</text>'
            )
        if index % label_every == 0:
            below = _clock(finding.time) if by_time and finding.time is not None else f"#{index + 1}"
            out.append(
                f'<text class="tick" x="{centre:.1f}" y="{_TOP + plot_h + 18}" text-anchor="middle">{escape(below)}</text>'
            )
        out.append("</g>")
    out.append(
        f'<line class="axis-line" x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_WIDTH - _RIGHT}" y2="{_TOP + plot_h}"/>'
    )
    caption = "time the stall was recorded" if by_time else "stalls in the order they were recorded"
    out.append(
        f'<text class="axis" x="{_LEFT + plot_w / 2:.1f}" y="{_HEIGHT - 12}" text-anchor="middle">{caption}</text>'
    )
    codes = sorted({f.diagnostic.code for f in drawn})
    legend_x = _WIDTH - _RIGHT
    for code in reversed(codes):
        label = _LABELS.get(code, code)
        width = 14 + 7 * len(label)
        legend_x -= width + 12
        out.append(f'<rect x="{legend_x}" y="6" width="10" height="10" rx="2" fill="{_COLOURS.get(code, "#64748b")}"/>')
        out.append(f'<text class="legend" x="{legend_x + 14}" y="15">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)
