"""Charts drawn on the server as inline SVG: no script, no external service, nothing to load.

Every chart is a <figure> whose SVG has a <title> and a <desc> (the text alternative, read by screen readers through
aria-labelledby); the page puts the table of the same figures next to it, for everyone. Colours are SVG
presentation attributes, not style attributes, because the Content-Security-Policy allows no inline style. Every
label is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

# GOV.UK colours: blue and orange tell apart for the common colour-vision deficiencies; text black on white.
SERIES_COLOURS = ("#1d70b8", "#f47738", "#00703c", "#4c2c92")
TEXT = "#0b0c0c"
GRID = "#b1b4b6"
FONT = 'font-family="arial, sans-serif"'


def _figure(chart_id: str, title: str, description: str, width: int, height: int, body: list[str],
            legend: Sequence[tuple[str, str]] = ()) -> Markup:
    t, d = f"{chart_id}-title", f"{chart_id}-desc"
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{t} {d}" width="100%" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" class="ehc-chart__svg">',
        f'<title id="{t}">{escape(title)}</title>',
        f'<desc id="{d}">{escape(description)}</desc>',
        *body,
        "</svg>",
    ]
    legend_html = ""
    if legend:
        items = "".join(
            f'<li class="ehc-chart__legend-item"><svg width="14" height="14" aria-hidden="true" focusable="false">'
            f'<rect width="14" height="14" fill="{colour}"/></svg> {escape(name)}</li>' for name, colour in legend)
        legend_html = f'<ul class="govuk-list ehc-chart__legend">{items}</ul>'
    return Markup(
        f'<figure class="ehc-chart" id="{chart_id}">'
        f'<figcaption class="govuk-heading-s">{escape(title)}</figcaption>'
        f'{legend_html}{"".join(svg)}</figure>')


def grouped_bars(chart_id: str, title: str, description: str, categories: Sequence[str],
                 series: Sequence[tuple[str, Sequence[float | None]]], maximum: float = 100, unit: str = "%") -> Markup:
    """Vertical bars, one group per category (e.g. a month), one bar per series; a missing value draws no bar, and a
    category with no value at all is labelled "none"."""
    # A fixed plot width, so that the chart is drawn at about its natural size in a two-thirds column whether it
    # has one month or twelve.
    left, top, bottom, plot_w, plot_h = 52, 12, 40, 560, 220
    group_w = min(90.0, plot_w / max(1, len(categories)))
    width = left + plot_w + 10
    height = top + plot_h + bottom
    body = [f'<g {FONT} font-size="13" fill="{TEXT}">']
    for step in range(0, 5):
        value = maximum * step / 4
        y = top + plot_h - plot_h * step / 4
        body.append(f'<line x1="{left}" x2="{width - 6}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" '
                    f'stroke-width="1"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}{escape(unit)}</text>')
    bar_w = (group_w - 14) / max(1, len(series))
    for i, category in enumerate(categories):
        x0 = left + i * group_w + 7
        values_here = [values[i] if i < len(values) else None for _, values in series]
        if all(v is None for v in values_here):
            # One label for the month, not one per series: side by side they would overlap.
            body.append(f'<text x="{x0 + (group_w - 14) / 2:.1f}" y="{top + plot_h - 4}" text-anchor="middle" '
                        f'font-size="10">none</text>')
        for j, (name, _values) in enumerate(series):
            value = values_here[j]
            x = x0 + j * bar_w
            if value is None:
                continue
            h = plot_h * min(value, maximum) / maximum if maximum else 0
            body.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                        f'fill="{SERIES_COLOURS[j % len(SERIES_COLOURS)]}">'
                        f'<title>{escape(name)}, {escape(category)}: {value:g}{escape(unit)}</title></rect>')
        # "Mar 2026" on two lines, so that twelve months fit side by side.
        cx = x0 + (group_w - 14) / 2
        lines = "".join(f'<tspan x="{cx:.1f}" dy="{0 if n == 0 else 15}">{escape(_short(part))}</tspan>'
                        for n, part in enumerate(category.rsplit(" ", 1)))
        body.append(f'<text x="{cx:.1f}" y="{top + plot_h + 17}" text-anchor="middle">{lines}</text>')
    body.append(f'<line x1="{left}" x2="{width - 6}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{TEXT}"/>')
    body.append("</g>")
    legend = [(name, SERIES_COLOURS[j % len(SERIES_COLOURS)]) for j, (name, _) in enumerate(series)]
    return _figure(chart_id, title, description, width, height, body, legend)


def horizontal_bars(chart_id: str, title: str, description: str, items: Sequence[tuple[str, int]]) -> Markup:
    """One bar per item (label and count), longest scale first: for counts such as cases by stage."""
    label_w, row_h, plot_w, top = 300, 30, 260, 8
    width = label_w + plot_w + 40
    height = top + row_h * max(1, len(items)) + 8
    biggest = max((n for _, n in items), default=0) or 1
    body = [f'<g {FONT} font-size="14" fill="{TEXT}">']
    for i, (label, count) in enumerate(items):
        y = top + i * row_h
        w = plot_w * count / biggest
        body.append(f'<text x="{label_w - 8}" y="{y + 20}" text-anchor="end">{escape(_short(label, 36))}</text>')
        body.append(f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" '
                    f'fill="{SERIES_COLOURS[0]}"><title>{escape(label)}: {count}</title></rect>')
        body.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 20}">{count}</text>')
    body.append("</g>")
    return _figure(chart_id, title, description, width, height, body)


def _short(text: str, limit: int = 12) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
