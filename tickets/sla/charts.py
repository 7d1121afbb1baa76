"""Bar charts as server-rendered SVG: no script, readable without colour, numbers beside."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    css: str  # a class that sets the fill


def _n(value: float) -> str:
    """A coordinate, to a tenth of a unit."""
    return f"{value:.1f}"


def _nice_max(value: float) -> float:
    """A round axis maximum at or above value (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def bar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    unit: str = "min",
    width: int = 720,
    height: int = 220,
) -> SafeString:
    """Grouped vertical bars, one group per category, with a labelled y axis."""
    left, right, top, bottom = 48, 8, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for s in series for v in s.values if v is not None), default=0.0)
    axis_max = _nice_max(peak)
    groups = max(len(categories), 1)
    group_w = plot_w / groups
    bar_w = max(min(group_w * 0.8 / max(len(series), 1), 28), 2)
    parts: list[SafeString] = []
    for tick in range(5):
        value = axis_max * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
                left,
                width - right,
                _n(y),
                _n(y),
                left - 6,
                _n(y + 4),
                f"{value:g}",
            )
        )
    every = max(1, groups // 12)  # at most ~12 category labels
    for index, category in enumerate(categories):
        x0 = left + group_w * index + (group_w - bar_w * len(series)) / 2
        for offset, one in enumerate(series):
            value = one.values[index] if index < len(one.values) else None
            if value is None:
                continue
            bar_h = plot_h * value / axis_max
            parts.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{}: {} {} {}</title></rect>",
                    one.css,
                    _n(x0 + offset * bar_w),
                    _n(top + plot_h - bar_h),
                    _n(bar_w - 1),
                    _n(bar_h),
                    category,
                    one.label,
                    f"{value:g}",
                    unit,
                )
            )
        if index % every == 0:
            parts.append(
                format_html(
                    '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                    _n(left + group_w * (index + 0.5)),
                    height - bottom + 16,
                    category[5:] if len(category) == 10 and category[4] == "-" else category[:14],
                )
            )
    legend = format_html_join(
        "",
        '<tspan class="{}-legend" dx="14">■</tspan><tspan dx="4">{}</tspan>',
        ((s.css, s.label) for s in series),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<line class="base" x1="{}" x2="{}" y1="{}" y2="{}"/>{}'
        '<text class="legend" x="{}" y="{}">{}</text></svg>',
        width,
        height,
        title,
        left,
        width - right,
        top + plot_h,
        top + plot_h,
        SafeString("".join(parts)),
        left - 14,
        height - 6,
        legend,
    )
