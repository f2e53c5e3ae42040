"""What a home dashboard is made of: cards of figures (a label, a value and the link to the list that shows
exactly those rows), charts of figures and the most pressing records, and the links and numbers they show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.formats import number_format

from renocrm.periods import Period

from ..charts import Datum

Figure = Datum
CHECKED = "on"  # a ticked checkbox of a list's filter form
PRESSING = 5  # records listed under a card


@dataclass(frozen=True)
class ChartSpec:
    kind: str
    title: str
    data: list[Figure]
    total_text: str = ""


@dataclass(frozen=True)
class Row:
    """A record listed under a card: what it is, where it opens, a line about it; ``clock`` for complaints."""

    label: str
    href: str
    meta: str = ""
    tone: str = ""
    clock: object = None
    record: object = None


@dataclass
class Card:
    key: str
    title: str
    stage: str  # the lifecycle stage, for the card's colour
    figures: list[Figure] = field(default_factory=list)
    charts: list[ChartSpec] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    rows_title: str = ""
    more: tuple[str, str] | None = None  # (label, href) of the full list
    in_period: bool = False  # the figures follow the period picker
    body: str = ""  # a template drawing extra content (e.g. complaint clocks)
    drawn: list = field(default_factory=list)  # the charts' geometry, drawn by the view


@dataclass
class Dashboard:
    role: str
    period: Period
    today: date
    cards: list[Card]

    def figure(self, key: str) -> Figure:
        """A figure by key, wherever it is shown (tests and the template's data-testid use the keys)."""
        for card in self.cards:
            for figure in [*card.figures, *(datum for chart in card.charts for datum in chart.data)]:
                if figure.key == key:
                    return figure
        raise KeyError(key)

    def card(self, key: str) -> Card:
        return next(card for card in self.cards if card.key == key)


# Links and numbers --------------------------------------------------------------------------------------------


def url(name: str, *args, anchor: str = "", **query) -> str:
    """The URL of a list page with its filter parameters (empty ones left out)."""
    address = reverse(name, args=args)
    query = {key: value for key, value in query.items() if value not in (None, "", False)}
    return f"{address}{'?' + urlencode(query) if query else ''}{'#' + anchor if anchor else ''}"


def money(amount) -> str:
    """An amount in whole yuan, as a dashboard tile has room for; the lists behind it show the fen."""
    return "¥" + number_format(round(amount or Decimal("0")), 0, force_grouping=True)


def percent(value) -> str:
    """A share 0–100 as "62.5 %", or a dash when there was nothing to divide."""
    return "—" if value is None else f"{number_format(value, 1)} %"


def count(key, label, value, href=None, *, warn=False) -> Figure:
    return Figure(label=label, value=value, href=href, key=key, tone="warn" if warn and value else "")
