"""Charts drawn on the server as inline SVG: these functions turn figures into geometry (bars, a trend line,
a donut) and the templates under ``templates/dashboard/charts/`` draw it. No script, no CDN.

Every bar, point and segment carries the link of the list behind it, and its label and value are written out
as text, so a chart reads the same without colour and for a screen reader (``<title>``/``<desc>``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

HBAR, VBAR, LINE, DONUT = "hbar", "vbar", "line", "donut"


@dataclass(frozen=True)
class Datum:
    """One figure of a chart: what it counts, how much, the list behind it, and how the value is written."""

    label: str
    value: int | float | Decimal
    href: str | None = None
    text: str = ""  # the value as shown; str(value) when empty
    tone: str = ""  # a modifier of the shape's CSS class, e.g. "warn" for overdue figures
    key: str = ""  # names the figure for tests and test ids

    @property
    def shown(self) -> str:
        return self.text or str(self.value)


@dataclass(frozen=True)
class Shape:
    """Where one datum is drawn: its rectangle (bars), point (line) or arc (donut), and its text."""

    datum: Datum
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0
    label_x: float = 0
    label_y: float = 0
    value_x: float = 0
    value_y: float = 0
    # Donut arcs: the dash pattern of the circle's stroke and where it starts.
    dash: str = ""
    offset: float = 0
    labelled: bool = True  # lines: whether the point's value is written next to it
    lines: tuple[str, ...] = ()  # vertical bars: the label broken to fit under its bar
    hit: tuple[float, float, float, float] = (0, 0, 0, 0)  # the whole row/column a pointer may click (x, y, w, h)


@dataclass(frozen=True)
class Chart:
    kind: str
    title: str
    width: float
    height: float
    shapes: list[Shape]
    empty: bool
    # Lines: the path through the points and the axis; donuts: the centre, radius and the total in the middle.
    path: str = ""
    axis: tuple[float, float, float, float] = (0, 0, 0, 0)
    ticks: list[Shape] = field(default_factory=list)
    centre: tuple[float, float] = (0, 0)
    radius: float = 0
    total_text: str = ""
    slug: str = ""

    @property
    def description(self) -> str:
        """The chart's figures as one sentence for screen readers (``<desc>``)."""
        return "; ".join(f"{shape.datum.label}: {shape.datum.shown}" for shape in self.shapes)


def _width(text: str) -> int:
    """Rough width of ``text`` in Latin characters: a Chinese character is about two."""
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def wrap(label: str, width: int, *, lines: int = 2) -> tuple[str, ...]:
    """``label`` in at most ``lines`` lines of about ``width`` Latin characters, broken between words (or
    anywhere in Chinese text); what does not fit ends in an ellipsis — the full label stays in the title."""
    if _width(label) <= width:
        return (label,)
    # Break first where the label itself has parts ("Level 1 · front line"), then between words.
    if " · " in label:
        words, joiner = label.split(" · "), " · "
    elif " " in label:
        words, joiner = label.split(), " "
    else:
        words, joiner = list(label), ""
    result, current = [], ""
    for word in words:
        candidate = f"{current}{joiner}{word}" if current else word
        if current and _width(candidate) > width:
            result.append(current)
            current = word
        else:
            current = candidate
    result.append(current)
    if len(result) > lines:
        result = [*result[: lines - 1], result[lines - 1] + "…"]
    return tuple(result)


def _number(value) -> float:
    return float(value or 0)


def _empty(data) -> bool:
    return not data or all(_number(datum.value) == 0 for datum in data)


def hbars(data: list[Datum], *, title: str, slug: str = "", width: float = 360, bar: float = 16) -> Chart:
    """Horizontal bars, one row per datum: the label on a line of its own (long channel names fit), the bar
    below it, the value at the bar's end. Bars scale to the largest value."""
    label_h, gap = 15.0, 9.0
    # Room at the bar's end for the longest value as written (about 7 units a character at 12px).
    value_w = min(max((_width(d.shown) * 7.0 + 10 for d in data), default=40.0), width / 2)
    value_w = max(value_w, 40.0)
    row = label_h + bar + gap
    top = max((_number(d.value) for d in data), default=0) or 1
    span = width - value_w
    shapes = []
    for n, datum in enumerate(data):
        y = n * row
        length = span * _number(datum.value) / top
        # A zero still shows a sliver, so there is something to point at.
        length = max(length, 2.0)
        shapes.append(
            Shape(
                datum,
                x=0,
                y=y + label_h,
                width=round(length, 2),
                height=bar,
                label_x=0,
                label_y=y + label_h - 4,
                value_x=round(length + 6, 2),
                value_y=y + label_h + bar - 4,
                hit=(0, y, width, row),
            )
        )
    return Chart(HBAR, title, width, max(len(data) * row, row), shapes, _empty(data), slug=slug)


def vbars(data: list[Datum], *, title: str, slug: str = "", width: float = 360, height: float = 180) -> Chart:
    """Vertical bars side by side over a baseline, the value above each bar and the label under it."""
    plot_top, label_h = 18.0, 36.0
    plot_h = height - plot_top - label_h
    count = max(len(data), 1)
    slot = width / count
    bar = min(slot * 0.6, 48.0)
    top = max((_number(d.value) for d in data), default=0) or 1
    shapes = []
    for n, datum in enumerate(data):
        length = max(plot_h * _number(datum.value) / top, 2.0)
        centre = slot * n + slot / 2
        base = plot_top + plot_h
        shapes.append(
            Shape(
                datum,
                x=round(centre - bar / 2, 2),
                y=round(base - length, 2),
                width=round(bar, 2),
                height=round(length, 2),
                label_x=round(centre, 2),
                label_y=base + 15,
                value_x=round(centre, 2),
                value_y=round(base - length - 5, 2),
                lines=wrap(datum.label, max(int(slot / 6.5), 6)),
                hit=(round(slot * n, 2), 0, round(slot, 2), height),
            )
        )
    axis = (0, plot_top + plot_h, width, plot_top + plot_h)
    return Chart(VBAR, title, width, height, shapes, _empty(data), axis=axis, slug=slug)


def line(
    data: list[Datum], *, title: str, slug: str = "", width: float = 360, height: float = 170, max_ticks: int = 7
) -> Chart:
    """A trend: one point per datum (in order, evenly spaced) joined by a line over a baseline; every point is
    a link with its value, and at most ``max_ticks`` labels are written under the axis so they never overlap."""
    left, right, top_pad, label_h = 24.0, 24.0, 20.0, 24.0
    plot_h = height - top_pad - label_h
    base = top_pad + plot_h
    top = max((_number(d.value) for d in data), default=0) or 1
    step = (width - left - right) / max(len(data) - 1, 1)
    every = max(math.ceil(len(data) / max_ticks), 1)
    ticked = {n for n in range(len(data)) if n % every == 0}
    if len(data) > 1 and len(data) - 1 - max(ticked, default=0) <= every / 2:
        ticked.discard(max(ticked, default=0))  # the last label wins over one squeezed against it
    ticked.add(len(data) - 1)
    peak = max(range(len(data)), key=lambda n: _number(data[n].value), default=0)
    points = []
    for n, datum in enumerate(data):
        x = left + n * step if len(data) > 1 else width / 2
        y = base - plot_h * _number(datum.value) / top
        # Values other than zero are written when they fit; on a long period only the labelled days' and the peak's.
        labelled = _number(datum.value) != 0 and (len(data) <= 2 * max_ticks or n in ticked or n == peak)
        points.append(
            Shape(
                datum,
                x=round(x, 2),
                y=round(y, 2),
                label_x=round(x, 2),
                label_y=base + 16,
                value_x=round(x, 2),
                value_y=round(y - 8, 2),
                labelled=labelled,
            )
        )
    path = " ".join(f"{'M' if n == 0 else 'L'}{p.x},{p.y}" for n, p in enumerate(points))
    ticks = [points[n] for n in sorted(ticked) if n < len(points)]
    axis = (0, base, width, base)
    return Chart(LINE, title, width, height, points, _empty(data), path=path, axis=axis, ticks=ticks, slug=slug)


def donut(data: list[Datum], *, title: str, slug: str = "", total_text: str = "", size: float = 160) -> Chart:
    """A ring cut into one arc per datum in proportion to its value, drawn as dashed circle strokes that start
    at twelve o'clock; the total is written in the middle, the legend lists every datum with its value."""
    radius = size / 2 - 14
    circumference = 2 * math.pi * radius
    total = sum(_number(d.value) for d in data)
    shapes, start = [], 0.0
    for datum in data:
        length = circumference * _number(datum.value) / total if total else 0.0
        shapes.append(
            Shape(datum, dash=f"{length:.2f} {circumference - length:.2f}", offset=round(-start, 2), width=length)
        )
        start += length
    return Chart(
        DONUT,
        title,
        size,
        size,
        shapes,
        _empty(data),
        centre=(size / 2, size / 2),
        radius=round(radius, 2),
        total_text=total_text,
        slug=slug,
    )


def day_label(day: date, *, by_month: bool) -> str:
    return f"{day.year}-{day.month:02d}" if by_month else f"{day.month}/{day.day}"


DRAW = {HBAR: hbars, VBAR: vbars, LINE: line, DONUT: donut}


def draw(kind: str, data: list[Datum], *, title: str, slug: str, total_text: str = "") -> Chart:
    extra = {"total_text": total_text} if kind == DONUT else {}
    return DRAW[kind](data, title=title, slug=slug, **extra)
