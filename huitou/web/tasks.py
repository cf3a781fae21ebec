"""Background jobs of the site as a whole."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huitou.lib.sqlite import planner_stats_refresh


# huey reads crontabs in UTC: 20:10 UTC is 04:10 in China, after the other nightly jobs.
@db_periodic_task(crontab(hour="20", minute="10"))
def planner_stats_nightly() -> bool:
    """Every night, on the embedded SQLite database: the planner's statistics for the day's new rows."""
    return planner_stats_refresh()
