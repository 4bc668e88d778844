"""The digest's pictures, as small PNG files drawn with Pillow.  Pure: figures in, bytes out.

Two charts: tickets opened and resolved per day (grouped bars) and SLA targets met and
missed per week (stacked bars).  No words inside a picture (a fresh machine has no Chinese
font): only axis numbers and MM-DD dates in Pillow's built-in font; titles, legends and
the figures themselves are in the HTML around them.  Drawn at twice the size they are
shown at (sharp on high-density screens), reduced to a small palette, and the same
figures always give the same bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from PIL import Image, ImageColor, ImageDraw, ImageFont

from maildesk.digest.model import DayCount, WeekSla

WIDTH, HEIGHT = 592, 200  # as shown (CSS pixels); drawn at SCALE times that
SCALE = 2
FONT_PX = 11  # as shown
CAP = 10**15  # larger counts are drawn as this (no float overflows)

OPENED = "#2563eb"  # the HTML's colour keys use the same values
RESOLVED = "#16a34a"
MET = "#16a34a"
MISSED = "#dc2626"
INK = "#4b5563"
GRID = "#e5e7eb"
AXIS = "#9ca3af"


@dataclass(frozen=True)
class Chart:
    name: str  # "daily" | "weekly_sla": the Content-ID's first part
    png: bytes
    width: int  # as shown; the PNG has SCALE times as many pixels
    height: int


@dataclass(frozen=True)
class Series:
    """One chart's values: a label per bar group and one value per series in it."""

    labels: tuple[str, ...]
    values: tuple[tuple[int, ...], ...]  # per label: one value per series
    colours: tuple[str, ...]
    stacked: bool


def daily_chart(days: Sequence[DayCount]) -> Chart | None:
    """Opened and resolved per day, side by side; None without days."""
    if not days:
        return None
    series = Series(
        tuple(_day(d.day) for d in days),
        tuple((_bar(d.opened), _bar(d.resolved)) for d in days),
        (OPENED, RESOLVED),
        stacked=False,
    )
    return Chart("daily", draw(series), WIDTH, HEIGHT)


def weekly_sla_chart(weeks: Sequence[WeekSla]) -> Chart | None:
    """Met (below) and missed (on top) per week; None without weeks."""
    if not weeks:
        return None
    series = Series(
        tuple(_day(w.week_start) for w in weeks),
        tuple((_bar(w.met), _bar(w.missed)) for w in weeks),
        (MET, MISSED),
        stacked=True,
    )
    return Chart("weekly_sla", draw(series), WIDTH, HEIGHT)


def _bar(value: int) -> int:
    return min(max(0, value), CAP)


def _day(day: date) -> str:
    return f"{day:%m-%d}"


# -- drawing ---------------------------------------------------------------------------------


@cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=FONT_PX * SCALE)


def draw(series: Series) -> bytes:
    top = max((_total(v, series.stacked) for v in series.values), default=0)
    ticks = nice_ticks(top)
    font = _font()
    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), "#ffffff")
    pen = ImageDraw.Draw(image)
    label_w = max(_text_width(pen, short_number(t), font) for t in ticks)
    left, right = label_w + 10 * SCALE, (WIDTH - 18) * SCALE  # room for the last date
    top_y, bottom = 10 * SCALE, (HEIGHT - 22) * SCALE
    scale = (bottom - top_y) / ticks[-1]
    for tick in ticks:
        y = round(bottom - tick * scale)
        pen.line([(left, y), (right, y)], fill=GRID if tick else AXIS, width=SCALE)
        text = short_number(tick)
        pen.text((left - 6 * SCALE, y), text, fill=INK, font=font, anchor="rm")
    _bars(pen, series, left, right, bottom, scale)
    _x_labels(pen, series.labels, left, right, bottom + 5 * SCALE, font)
    return _png(image)


def _total(values: tuple[int, ...], stacked: bool) -> int:
    return sum(values) if stacked else max(values, default=0)


def _bars(
    pen: ImageDraw.ImageDraw, series: Series, left: int, right: int, bottom: int, scale: float
) -> None:
    slot = (right - left) / len(series.labels)
    bars = 1 if series.stacked else len(series.colours)
    bar_w = max(SCALE, min(28 * SCALE, slot * 0.7 / bars))
    for i, values in enumerate(series.values):
        x = left + slot * i + (slot - bar_w * bars) / 2
        base = float(bottom)
        for j, value in enumerate(values):
            if not series.stacked:
                x0, base = x + bar_w * j, float(bottom)
            else:
                x0 = x
            height = value * scale
            if value:
                y1 = round(base) - 1
                box = (round(x0), min(round(base - height), y1), round(x0 + bar_w) - 1, y1)
                pen.rectangle(box, fill=series.colours[j])
            if series.stacked:
                base -= height


def _x_labels(
    pen: ImageDraw.ImageDraw,
    labels: tuple[str, ...],
    left: int,
    right: int,
    y: int,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> None:
    """Every label that fits: every k-th, counted back from the last (the newest day)."""
    slot = (right - left) / len(labels)
    width = max(_text_width(pen, label, font) for label in labels) + 8 * SCALE
    every = max(1, math.ceil(width / slot))
    last = len(labels) - 1
    for i, label in enumerate(labels):
        if (last - i) % every == 0:
            pen.text((left + slot * (i + 0.5), y), label, fill=INK, font=font, anchor="mt")


def _text_width(
    pen: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont
) -> int:
    box = pen.textbbox((0, 0), text, font=font)
    return int(box[2] - box[0])


def _png(image: Image.Image) -> bytes:
    """Mapped onto the fixed palette, without dither: a few KB, and the same image gives
    the same bytes (an adaptive palette took ~30-70 ms per chart; this takes 1 ms)."""
    small = image.quantize(palette=_palette(), dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, "PNG", optimize=True)
    return out.getvalue()


@cache
def _palette() -> Image.Image:
    """White, the ink and its antialiased edges on white (8 steps), the lines, the bars."""
    white, ink = (255, 255, 255), ImageColor.getrgb(INK)
    ramp = [tuple(round(w + (i - w) * step / 8) for w, i in zip(white, ink, strict=True))
            for step in range(9)]  # fmt: skip
    colours = [*ramp, *(ImageColor.getrgb(c) for c in (GRID, AXIS, OPENED, RESOLVED, MISSED))]
    flat = [v for colour in colours for v in colour[:3]]
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat + [0] * (768 - len(flat)))
    return palette


# -- numbers ---------------------------------------------------------------------------------


def nice_ticks(top: int) -> tuple[int, ...]:
    """0 and 3 to 6 round steps reaching at least `top` (1 when everything is 0)."""
    top = max(1, top)
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    count = math.ceil(top / step)
    return tuple(step * i for i in range(count + 1))


def short_number(value: int) -> str:
    """1200 → 1.2k, 3000000 → 3M: tick labels stay narrow however large the counts."""
    for limit, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".removesuffix(".0")
            return text + suffix
    return str(value)
