"""Metric maths shared by the live summary, offline analysis and reports (DESIGN.md section 4)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def face_present_ratio(face_flags: Sequence[bool | int]) -> float | None:
    """Share of analysed frames in which a face was found; None when no frame was analysed."""
    if not face_flags:
        return None
    return sum(1 for f in face_flags if f) / len(face_flags)


def merge_intervals(intervals: Iterable[tuple[float, float]], gap: float = 0.0) -> list[tuple[float, float]]:
    """Sort and merge overlapping intervals (and those separated by at most `gap` seconds)."""
    out: list[list[float]] = []
    for start, end in sorted((float(a), float(b)) for a, b in intervals if b > a):
        if out and start <= out[-1][1] + gap:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def total_duration(intervals: Iterable[tuple[float, float]]) -> float:
    """Seconds covered by the union of the intervals (overlaps counted once)."""
    return sum(b - a for a, b in merge_intervals(intervals))
