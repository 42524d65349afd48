"""The supervisors' charts as SVG drawn on the server (pygal), safe to put inside a page.

Each chart is drawn twice, for a desk (wide) and for a phone (narrow, larger type for its size), and
the page shows the one that fits. What is drawn is numbers, day and weekday names, prompt (node) and
agent names: never what a caller said (that stays in the tables). pygal escapes text as XML; its
inline <script> (the tooltip configuration; with js=[] nothing external is referenced) and comments
are taken out, so an inlined chart runs nothing.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Sequence
from xml.etree import ElementTree

import pygal
from pygal.style import Style

from ivr.insights.figures import Figures

# pygal puts an import finder for its map plugins (which this does not use) on sys.meta_path; it has
# no find_spec, so every later import that reaches it warns (ImportWarning), and a transcript the
# worker makes after a page view failed under `-W error`. Taken off again.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__module__ != "pygal"]

WIDE, NARROW = (880, 330), (380, 360)
OUTCOME_COLOURS = {"helped": "#1a7f37", "transferred": "#1f6feb", "message": "#8250df", "gave_up": "#d29922",
                   "hung_up": "#cf222e"}  # fmt: skip
OUTCOME_LABELS = {"helped": "helped", "transferred": "transferred", "message": "message left", "gave_up": "gave up",
                  "hung_up": "hung up"}  # fmt: skip
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
OPEN = "#e36209"  # the outline of an opening hour in the heat map: seen on light and dark cells
MAIN_PROMPTS = 8  # the funnel and speech charts show the most reached prompts; the tables show all


def _style(colours: Sequence[str], narrow: bool) -> Style:
    size = 15 if narrow else 13
    return Style(
        background="transparent", plot_background="transparent", foreground="#1d232b",
        foreground_strong="#1d232b", foreground_subtle="#c9d1d9", opacity=".9", opacity_hover="1",
        font_family="system-ui, sans-serif", label_font_size=size, major_label_font_size=size,
        legend_font_size=size, value_font_size=size - 2, title_font_size=size + 1, tooltip_font_size=size,
        colors=tuple(colours),
    )  # fmt: skip


def _chart(kind, colours: Sequence[str], narrow: bool, height: int | None = None, **options):  # type: ignore[no-untyped-def]
    width, tall = NARROW if narrow else WIDE
    options.setdefault("legend_at_bottom_columns", 2 if narrow else None)
    return kind(
        js=[], width=width, height=height or tall, style=_style(colours, narrow), legend_at_bottom=True,
        disable_xml_declaration=True, show_y_guides=True,
        truncate_label=-1, truncate_legend=-1, margin=8, margin_right=24, margin_top=4, **options,
    )  # fmt: skip


# On a phone's width a prompt's words are cut to this many characters, so the bars keep their room:
# the end is kept, where prompts differ ("…like to know?", "…like to do?").
NARROW_LABEL = 20


def _label(text: str, narrow: bool) -> str:
    if not narrow or len(text) <= NARROW_LABEL:
        return text
    tail = text[-(NARROW_LABEL - 1) :]
    return "…" + (tail.split(" ", 1)[1] if " " in tail else tail)  # whole words


def _svg(chart) -> str:  # type: ignore[no-untyped-def]
    """The chart's SVG element with no script and no comment in it."""
    root = chart.render_tree()
    return _clean(root)


def _clean(root: ElementTree.Element) -> str:
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str) or child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    root.set("role", "img")
    root.attrib.pop("width", None)
    root.attrib.pop("height", None)
    return ElementTree.tostring(root, encoding="unicode")


def _ticks(most: float, narrow: bool) -> list[int]:
    """Whole-number ticks from 0 to `most` or just past it, steps of 1, 2, 5, 10, 20, 50...: few
    enough to read on a phone, and never 0.2 of a call."""
    wanted = 4 if narrow else 8
    step = next(m * 10**e for e in range(12) for m in (1, 2, 5) if most / (m * 10**e) <= wanted)
    top = max(-(-int(most) // step) * step, step)
    return list(range(0, top + 1, step))


def _both(draw) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"wide": draw(False), "narrow": draw(True)}


def outcomes(figures: Figures) -> dict[str, str]:
    """How the calls ended: a bar per outcome."""

    def draw(narrow: bool) -> str:
        names = list(reversed(OUTCOME_LABELS))  # a horizontal chart draws its first bar at the bottom
        counts = [figures.outcomes.get(n, 0) for n in names]
        chart = _chart(pygal.HorizontalBar, [OUTCOME_COLOURS[n] for n in names], narrow, height=260 if narrow else 230,
                       show_legend=False, print_values=True, y_labels=_ticks(max(counts), narrow))  # fmt: skip
        chart.x_labels = [OUTCOME_LABELS[n] for n in names]
        chart.add("calls", [{"value": figures.outcomes.get(n, 0), "color": OUTCOME_COLOURS[n]} for n in names])
        return _svg(chart)

    return _both(draw)


def _day_label(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def _every(days: int, narrow: bool) -> int:
    return max(1, -(-days // (3 if narrow else 8)))


def calls_by_day(figures: Figures) -> dict[str, str]:
    """Calls per day, the helped part of each bar green."""

    def draw(narrow: bool) -> str:
        days = figures.days
        chart = _chart(pygal.StackedBar, ["#1a7f37", "#9fb6d3"], narrow, height=300 if narrow else 280,
                       x_labels_major_every=_every(len(days), narrow), show_minor_x_labels=False,
                       y_labels=_ticks(max((d.calls for d in days), default=0), narrow))  # fmt: skip
        chart.x_labels = [_day_label(d.day) for d in days]
        chart.add("helped", [d.helped for d in days])
        chart.add("other calls", [d.calls - d.helped for d in days])
        return _svg(chart)

    return _both(draw)


def containment_by_day(figures: Figures) -> dict[str, str]:
    """The share of calls helped (containment), day by day; a day without calls is a gap."""

    def draw(narrow: bool) -> str:
        days = figures.days
        chart = _chart(pygal.Line, ["#1a7f37"], narrow, height=260 if narrow else 240, show_legend=False,
                       x_labels_major_every=_every(len(days), narrow), show_minor_x_labels=False,
                       y_labels=[0, 25, 50, 75, 100], range=(0, 100), dots_size=3)  # fmt: skip
        chart.value_formatter = lambda value: f"{value:g}%"
        chart.x_labels = [_day_label(d.day) for d in days]
        chart.add("helped, % of calls", [round(100 * d.containment, 1) if d.calls else None for d in days])
        return _svg(chart)

    return _both(draw)


def drop_off(figures: Figures, named: Callable[[str], str] = str) -> dict[str, str]:
    """The main prompts (`named` in words): of the calls that reached each, how many went on, hung up, asked for a
    person, or left another way (the rest), stacked so a bar is as long as the calls that reached it."""
    prompts = list(reversed(figures.prompts[:MAIN_PROMPTS]))  # the most reached on top

    def draw(narrow: bool) -> str:
        chart = _chart(pygal.HorizontalStackedBar, ["#1a7f37", "#cf222e", "#1f6feb", "#9aa4ae"], narrow,
                       height=max(220, 70 + 40 * len(prompts)) + (70 if narrow else 0),
                       legend_at_bottom_columns=1 if narrow else 4,
                       y_labels=_ticks(max((p.reached for p in prompts), default=0), narrow))  # fmt: skip
        chart.x_labels = [_label(named(p.node), narrow) for p in prompts]
        chart.add("went on", [p.went_on for p in prompts])
        chart.add("hung up", [p.hung_up for p in prompts])
        chart.add("asked for a person", [p.to_person for p in prompts])
        chart.add("left another way", [max(0, p.reached - p.went_on - p.hung_up - p.to_person) for p in prompts])
        return _svg(chart)

    return _both(draw)


def per_agent(figures: Figures) -> dict[str, str]:
    """Messages each agent closed."""
    agents = list(reversed(figures.messages.per_agent))

    def draw(narrow: bool) -> str:
        chart = _chart(pygal.HorizontalBar, ["#1f6feb"], narrow, height=max(160, 60 + 36 * len(agents)),
                       show_legend=False, print_values=True,
                       y_labels=_ticks(max((a.closed for a in agents), default=0), narrow))  # fmt: skip
        chart.x_labels = [a.agent for a in agents]
        chart.add("closed", [a.closed for a in agents])
        return _svg(chart)

    return _both(draw)


def speech(figures: Figures, named: Callable[[str], str] = str) -> dict[str, str]:
    """Per prompt, the share of answers by voice that were not understood."""
    prompts = list(reversed([p for p in figures.prompts if p.voice][:MAIN_PROMPTS]))

    def draw(narrow: bool) -> str:
        chart = _chart(pygal.HorizontalBar, ["#d29922"], narrow, height=max(160, 60 + 36 * len(prompts)),
                       show_legend=False, print_values=True, range=(0, 100),
                       y_labels=[0, 25, 50, 75, 100] if narrow else list(range(0, 101, 10)))  # fmt: skip
        chart.add("not understood, % of voice answers", [round(100 * p.voice_missed / p.voice, 1) for p in prompts])
        chart.x_labels = [_label(named(p.node), narrow) for p in prompts]
        chart.value_formatter = lambda value: f"{value:g}%"
        return _svg(chart)

    return _both(draw)


def heat_map(figures: Figures) -> dict[str, str]:
    """Calls by weekday and hour (darker: more), the opening hours outlined. pygal has no heat map,
    so it is drawn here: only numbers and weekday names go in. Wide: hours across; narrow: down."""
    most = max((n for day in figures.hours for n in day), default=0)

    def draw(narrow: bool) -> str:
        cell, left, top = (40, 46, 26) if narrow else (34, 46, 24)
        columns, rows = (7, 24) if narrow else (24, 7)
        width, height = left + columns * cell + 4, top + rows * cell + 4
        svg = ElementTree.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {width} {height}",
                                          "class": "heat", "role": "img", "font-family": "system-ui, sans-serif",
                                          "font-size": "13"})  # fmt: skip
        for weekday in range(7):
            for hour in range(24):
                column, row = (weekday, hour) if narrow else (hour, weekday)
                x, y = left + column * cell, top + row * cell
                calls = figures.hours[weekday][hour]
                share = calls / most if most else 0.0
                opened = figures.open[weekday][hour]
                rect = ElementTree.SubElement(svg, "rect", {
                    "x": str(x + 2), "y": str(y + 2), "width": str(cell - 4), "height": str(cell - 4), "rx": "3",
                    "fill": _shade(share), "stroke": OPEN if opened else "none",
                    "stroke-width": "3" if opened else "0",
                })  # fmt: skip
                ElementTree.SubElement(
                    rect, "title"
                ).text = f"{WEEKDAYS[weekday]} {hour:02d}:00: {calls} call{'' if calls == 1 else 's'}{' (open)' if opened else ''}"
                if calls:
                    text = ElementTree.SubElement(svg, "text", {
                        "x": str(x + cell / 2), "y": str(y + cell / 2 + 4), "text-anchor": "middle",
                        "font-size": "11", "fill": "#fff" if share > 0.55 else "#1d232b"})  # fmt: skip
                    text.text = str(calls)
        for weekday in range(7):
            x, y = (
                (left + weekday * cell + cell / 2, top - 8)
                if narrow
                else (left - 6, top + weekday * cell + cell / 2 + 4)
            )
            label = ElementTree.SubElement(svg, "text", {"x": str(x), "y": str(y),
                                                         "text-anchor": "middle" if narrow else "end"})  # fmt: skip
            label.text = WEEKDAYS[weekday]
        for hour in range(24):
            if not narrow and hour % 2:
                continue
            x, y = (left - 6, top + hour * cell + cell / 2 + 4) if narrow else (left + hour * cell + cell / 2, top - 8)
            label = ElementTree.SubElement(svg, "text", {"x": str(x), "y": str(y),
                                                         "text-anchor": "end" if narrow else "middle"})  # fmt: skip
            label.text = f"{hour:02d}"
        return ElementTree.tostring(svg, encoding="unicode")

    return _both(draw)


def _shade(share: float) -> str:
    """From near-white (no calls) to the header's dark blue (the busiest hour)."""
    low, high = (0xF1, 0xF4, 0xF8), (0x1F, 0x3A, 0x5F)
    return "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in zip(low, high, strict=True))
