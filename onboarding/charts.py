"""Charts drawn on the server as SVG: no script, no outside service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: str  # the polyline's "x,y x,y ..."
    y_max: int
    first_day: date | None
    last_day: date | None
    deadline_x: float | None


def cumulative_chart(
    counts_by_day: list[tuple[date, int]],
    *,
    start: date,
    end: date,
    deadline: date,
    width: int = 640,
    height: int = 220,
) -> LineChart:
    """A step line of the running total from `start` to `end`, with the deadline marked."""
    span = max((end - start).days, 1)
    total, points = 0, []
    counts = dict(counts_by_day)
    y_max = max(sum(counts.values()), 1)

    def x(day: date) -> float:
        return round((day - start).days / span * width, 1)

    def y(value: int) -> float:
        return round(height - value / y_max * height, 1)

    day = start
    while day <= end:
        previous = total
        total += counts.get(day, 0)
        if total != previous or day in (start, end):
            points.append(f"{x(day)},{y(previous)}")
            points.append(f"{x(day)},{y(total)}")
        day += timedelta(days=1)
    return LineChart(
        width=width,
        height=height,
        points=" ".join(points),
        y_max=y_max,
        first_day=start,
        last_day=end,
        deadline_x=x(deadline) if start <= deadline <= end else None,
    )
