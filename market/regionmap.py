"""Geometry of the regions map: an equirectangular projection of China's bounding box
onto an SVG canvas, and label placement that keeps region codes from overlapping.

Pure (no Django): the view hands in codes and coordinates, the template draws what comes
back. Colours are not decided here; the caller passes one per region (by role today, by
locational price later).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

LON_MIN, LON_MAX = 73.0, 135.0
LAT_MIN, LAT_MAX = 18.0, 54.0
PX_PER_DEGREE = 15.0
WIDTH = (LON_MAX - LON_MIN) * PX_PER_DEGREE
HEIGHT = (LAT_MAX - LAT_MIN) * PX_PER_DEGREE
MARKER_RADIUS = 6.0
LABEL_CHAR_PX = 7.0  # 11 px monospace
LABEL_HEIGHT_PX = 12.0
# Where a label may sit relative to its marker: (dx, dy of the text baseline, anchor).
LABEL_SLOTS = (
    (10.0, 4.0, "start"),
    (-10.0, 4.0, "end"),
    (0.0, -10.0, "middle"),
    (0.0, 18.0, "middle"),
    (10.0, -10.0, "start"),
    (10.0, 18.0, "start"),
    (-10.0, -10.0, "end"),
    (-10.0, 18.0, "end"),
    (14.0, 22.0, "start"),
    (-14.0, 22.0, "end"),
    (14.0, -16.0, "start"),
    (-14.0, -16.0, "end"),
)
# The Heihe-Tengchong (Hu) line: east of it lives ~94% of China's population, west of it
# lie the cheap power and land that "East Data, West Computing" builds on.
HU_LINE = ((50.25, 127.5), (25.02, 98.5))


@dataclass(frozen=True, slots=True)
class Point:
    code: str
    lat: Decimal | float
    lon: Decimal | float


@dataclass(frozen=True, slots=True)
class Marker:
    code: str
    x: float
    y: float
    label_x: float
    label_y: float
    anchor: str
    colour: str


@dataclass(frozen=True, slots=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float


Box = tuple[float, float, float, float]  # left, top, right, bottom


def project(lat: Decimal | float, lon: Decimal | float) -> tuple[float, float]:
    """(x, y) on the canvas; north is up."""
    x = (float(lon) - LON_MIN) * PX_PER_DEGREE
    y = (LAT_MAX - float(lat)) * PX_PER_DEGREE
    return round(x, 1), round(y, 1)


def _label_box(x: float, y: float, text: str, anchor: str) -> Box:
    width = len(text) * LABEL_CHAR_PX
    left = {"start": x, "end": x - width, "middle": x - width / 2}[anchor]
    return (left, y - LABEL_HEIGHT_PX + 2, left + width, y + 2)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(box: Box) -> bool:
    return box[0] >= 0 and box[1] >= 0 and box[2] <= WIDTH and box[3] <= HEIGHT


def place_markers(points: Iterable[Point], colours: Mapping[str, str]) -> list[Marker]:
    """A marker per point with its label in the first free slot (greedy, east first so
    the crowded coast gets the open sea to its right)."""
    projected = [(p.code, *project(p.lat, p.lon)) for p in points]
    taken: list[Box] = [
        (x - MARKER_RADIUS, y - MARKER_RADIUS, x + MARKER_RADIUS, y + MARKER_RADIUS)
        for _code, x, y in projected
    ]
    markers = []
    for code, x, y in sorted(projected, key=lambda p: (-p[1], p[2])):
        slot = LABEL_SLOTS[0]
        for candidate in LABEL_SLOTS:
            box = _label_box(x + candidate[0], y + candidate[1], code, candidate[2])
            if _inside(box) and not any(_overlaps(box, t) for t in taken):
                slot = candidate
                break
        dx, dy, anchor = slot
        taken.append(_label_box(x + dx, y + dy, code, anchor))
        markers.append(
            Marker(code, x, y, x + dx, y + dy, anchor, colours.get(code, "#6b7280"))
        )
    return sorted(markers, key=lambda m: m.code)


def segment(a: Point, b: Point) -> Segment:
    return Segment(*project(a.lat, a.lon), *project(b.lat, b.lon))


def graticule(
    step: int = 10,
) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
    """Meridians (x, lon) and parallels (y, lat) every `step` degrees."""
    meridians = [
        (project(LAT_MAX, lon)[0], lon)
        for lon in range(int(LON_MIN) // step * step + step, int(LON_MAX) + 1, step)
    ]
    parallels = [
        (project(lat, LON_MIN)[1], lat)
        for lat in range(int(LAT_MIN) // step * step + step, int(LAT_MAX) + 1, step)
    ]
    return meridians, parallels


def hu_line() -> Segment:
    (lat1, lon1), (lat2, lon2) = HU_LINE
    return Segment(*project(lat1, lon1), *project(lat2, lon2))
