"""The chart geometry: bars scale to the largest value, a zero still shows, a line's labels do not crowd,
a donut's arcs add up to the ring, long labels wrap; and the SVG a template draws from it."""

import math
import re
from decimal import Decimal

from django.template.loader import render_to_string

from renocrm.dashboard import charts
from renocrm.dashboard.charts import Datum


def data(*values):
    return [Datum(f"d{n}", value, f"/list/?n={n}", key=f"k{n}") for n, value in enumerate(values)]


def test_horizontal_bars_scale_to_the_largest_value():
    chart = charts.hbars(data(10, 5, 0), title="Leads", width=360)

    widths = [shape.width for shape in chart.shapes]
    # The bar area leaves room for the value at the end of the longest bar.
    assert widths == [320.0, 160.0, 2.0]
    long = charts.hbars([Datum("Online", 4, text="4 · 2 won · 50.0 %"), Datum("Phone", 2)], title="t", width=360)
    assert long.shapes[0].value_x + len("4 · 2 won · 50.0 %") * 7 <= 360 + 7
    assert [shape.y for shape in chart.shapes] == [15.0, 55.0, 95.0]
    assert chart.height == 3 * 40
    assert not chart.empty


def test_a_chart_of_zeros_is_empty():
    assert charts.hbars(data(0, 0), title="t").empty
    assert charts.vbars([], title="t").empty
    assert charts.donut(data(0), title="t").empty


def test_vertical_bars_stand_on_the_axis_and_wrap_long_labels():
    chart = charts.vbars(
        [Datum("Level 1 · front line", 2), Datum("Level 2 · department head", 1), Datum("Level 3", 0)],
        title="Levels",
        width=360,
        height=180,
    )

    base = chart.axis[1]
    assert base == 180 - 36
    for shape in chart.shapes:
        assert math.isclose(shape.y + shape.height, base)
    assert [shape.height for shape in chart.shapes] == [126.0, 63.0, 2.0]
    assert chart.shapes[0].lines == ("Level 1", "front line")
    assert chart.shapes[1].lines == ("Level 2", "department head")
    assert chart.shapes[2].lines == ("Level 3",)


def test_wrapping_counts_chinese_characters_double_and_ends_in_an_ellipsis():
    assert charts.wrap("一级 · 一线处理", 8) == ("一级", "一线处理")
    assert charts.wrap("very long label that goes on and on", 10) == ("very long", "label that…")


def test_a_line_labels_at_most_the_ticks_asked_for_and_always_the_last_day():
    points = data(*range(31))
    chart = charts.line(points, title="Trend", max_ticks=7)

    assert len(chart.shapes) == 31
    assert chart.path.startswith("M24.0,") and chart.path.count("L") == 30
    labelled = [tick.datum.label for tick in chart.ticks]
    assert len(labelled) <= 8
    assert labelled[0] == "d0" and labelled[-1] == "d30"
    # The highest point touches the top of the plot, zero lies on the axis.
    assert chart.shapes[-1].y == 20.0 and chart.shapes[0].y == chart.axis[1]
    # On a long period only the labelled days' values are written, never a zero.
    assert not chart.shapes[0].labelled and chart.shapes[-1].labelled


def test_donut_arcs_follow_each_other_round_the_ring():
    chart = charts.donut(data(1, 1, 2), title="Outcomes", total_text="4", size=160)

    circumference = 2 * math.pi * chart.radius
    lengths = [float(shape.dash.split()[0]) for shape in chart.shapes]
    assert math.isclose(sum(lengths), circumference, rel_tol=1e-3)
    assert [shape.offset for shape in chart.shapes] == [0, round(-circumference / 4, 2), round(-circumference / 2, 2)]


def test_the_template_draws_linked_accessible_svg():
    chart = charts.hbars(
        [Datum("Online inquiry", 3, "/leads/?channel=online", key="online"), Datum("Phone", Decimal("1.5"))],
        title="Leads by channel",
        slug="t-0",
    )

    html = render_to_string("dashboard/charts/hbar.html", {"chart": chart})

    assert 'role="img" aria-labelledby="chart-t-0-title chart-t-0-desc"' in html
    assert '<title id="chart-t-0-title">Leads by channel</title>' in html
    assert '<desc id="chart-t-0-desc">Online inquiry: 3; Phone: 1.5</desc>' in html
    assert '<a class="chart__link" href="/leads/?channel=online" data-testid="bar-online">' in html
    # Geometry is written with a decimal point whatever the language.
    assert re.search(r'<rect class="chart__bar" x="0" y="15.0" width="320.0" height="16"', html)
    assert ">Online inquiry</text>" in html and ">3</text>" in html
