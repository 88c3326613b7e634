"""One meaning of "today" in tests: the day the code itself goes by, timezone.localdate()
in settings.TIME_ZONE (Asia/Shanghai), never the host's date.today() or a UTC date, which
differ from it between 16:00 and 24:00 UTC."""

from __future__ import annotations

import datetime

from django.utils import timezone

# The fixed day of tests that pass `today=` explicitly (the `today` fixture).
FIXED_TODAY = datetime.date(2026, 11, 21)


def today() -> datetime.date:
    """Today in Asia/Shanghai, as the portal counts days."""
    return timezone.localdate()


def days_ago(days: int, *, of: datetime.date | None = None) -> datetime.date:
    return (of or today()) - datetime.timedelta(days=days)


def days_ahead(days: int, *, of: datetime.date | None = None) -> datetime.date:
    return (of or today()) + datetime.timedelta(days=days)


def in_days(days: float) -> datetime.datetime:
    """The instant `days` from now (negative: before now)."""
    return timezone.now() + datetime.timedelta(days=days)


def month_starts(count: int, *, of: datetime.date | None = None) -> list[datetime.date]:
    """The first days of this month and the count - 1 months before it."""
    first = (of or today()).replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return months


def birth_years_ago(years: int, *, days: int = 0) -> str:
    """A birth date (YYYYMMDD) `years` years before today, moved `days` later."""
    day = today()
    try:
        born = day.replace(year=day.year - years)
    except ValueError:  # today is 29 February
        born = day.replace(year=day.year - years, day=28)
    born += datetime.timedelta(days=days)
    return born.strftime("%Y%m%d")
