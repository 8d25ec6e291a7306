"""Server-rendered SVG charts: a line over the last minutes, no chart framework.

::

    >>> html = chart({"title": "processes", "values": [3, 5, 4], "unit": ""}).to_html()
    >>> "<polyline" in html and 'points="0.0,' in html
    True

The chart is a template: its points are one attribute, so a new sample
re-sends that attribute and the latest value, nothing else.
"""

from __future__ import annotations

from web.live import compile_template

__all__ = ["chart", "points"]

WIDTH, HEIGHT = 300, 60

_CHART = compile_template(
    """<figure class="chart" id={@id}>
  <figcaption>{@title}: <b class="latest">{@latest}</b> {@unit} <small>(max {@peak})</small></figcaption>
  <svg viewBox={@viewbox} width={@width} height={@height} role="img" aria-label={@title}>
    <polyline fill="none" stroke="currentColor" stroke-width="1.5" points={@points} />
  </svg>
</figure>""",
    filename="web/dashboard/_charts.py:chart",
)


def points(values: list[float], width: int = WIDTH, height: int = HEIGHT) -> str:
    """The polyline of ``values`` scaled into the box (newest on the right, the top is the maximum)."""
    if not values:
        return ""
    peak = max(max(values), 1e-9)
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - (v / peak) * (height - 2) - 1:.1f}" for i, v in enumerate(values))


def _format(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


def chart(assigns: dict):
    """``<.chart id="mem" title="memory" values={[...]} unit="MiB" />``."""
    values = list(assigns.get("values") or [])
    return _CHART.render(
        {
            "id": assigns.get("id"),
            "title": assigns.get("title", ""),
            "unit": assigns.get("unit", ""),
            "latest": _format(values[-1]) if values else "–",
            "peak": _format(max(values)) if values else "–",
            "points": points(values),
            "viewbox": f"0 0 {WIDTH} {HEIGHT}",
            "width": WIDTH,
            "height": HEIGHT,
        }
    )
