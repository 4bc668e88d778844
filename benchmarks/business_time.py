"""Business-time arithmetic cost: add_business of 1 h, 1,000 h and 10,000 h on China's
calendar (2004-2026 official, later years provisional), from Friday 2026-02-13 17:00.

"cold" is the first call on a fresh Calendar (it builds the year tables it crosses),
"warm" the median of --repeat calls on the same Calendar from starts a minute apart
(the case of recomputing many tickets' deadlines).

    .venv/bin/python -m benchmarks.business_time --repeat 1000
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from maildesk.calendar import seed
from maildesk.calendar.business import add_business, business_minutes_between
from maildesk.calendar.model import Calendar, make_calendar

START = datetime(2026, 2, 13, 17, tzinfo=ZoneInfo("Asia/Shanghai"))


def china() -> Calendar:
    days = [s for year in seed.schedule().values() for s in year]
    return make_calendar("Asia/Shanghai", special=days, official_years=seed.official_years())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1000)
    args = parser.parse_args()
    print("hours     due                         cold ms   warm µs (median)")
    for hours in (1, 1_000, 10_000):
        cal = china()
        begun = time.perf_counter()
        due = add_business(cal, START, hours * 60)
        cold = (time.perf_counter() - begun) * 1000
        assert business_minutes_between(cal, START, due) == hours * 60
        warm = []
        for i in range(args.repeat):
            start = START + timedelta(minutes=i)
            begun = time.perf_counter()
            add_business(cal, start, hours * 60)
            warm.append((time.perf_counter() - begun) * 1e6)
        print(f"{hours:>6}    {due.isoformat():<26}  {cold:8.2f}  {statistics.median(warm):8.1f}")


if __name__ == "__main__":
    main()
