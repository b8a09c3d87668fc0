"""The ledger reads an audit entry's time by hand (no strptime, no calendar import in agent commands): it
must read every timestamp exactly as `calendar.timegm` would, leap days and month ends included."""

from __future__ import annotations

import calendar
import random

from omni_tui.core.ledger import _epoch, _timegm


def test_timestamps_read_as_calendar_timegm_does() -> None:
    rng = random.Random(15)
    stamps = [(1970, 1, 1, 0, 0, 0), (2000, 2, 29, 12, 0, 0), (1900, 3, 1, 0, 0, 0), (2023, 2, 31, 0, 0, 0), (1, 1, 1, 0, 0, 0)]
    stamps += [(9999, 12, 31, 23, 59, 61)]
    stamps += [
        (rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 31), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 61))
        for _ in range(5000)
    ]
    for stamp in stamps:
        assert _timegm(*stamp) == calendar.timegm((*stamp, 0, 0, 0)), stamp


def test_audit_times_parse_with_fractions_and_unreadable_ones_are_zero() -> None:
    assert _epoch("2026-12-04T13:30:00.5Z") == calendar.timegm((2026, 12, 4, 13, 30, 0, 0, 0, 0)) + 0.5
    assert _epoch("0000-01-01T00:00:00Z") == 0.0  # year 0 does not exist: unreadable, as before
    assert _epoch("2026-13-01T00:00:00Z") == 0.0
    assert _epoch(None) == 0.0
