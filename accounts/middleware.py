"""Pages (and what they compute with dates) in the learner's time zone: their profile setting, else the
zone their browser reported in the `tz` cookie (static/js/time-zone.js), else the site's. Stored times
stay in UTC; only rendering and "today" follow the zone."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

COOKIE = "tz"


def zone_named(name: str):
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class TimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        name = getattr(user, "time_zone", "") if getattr(user, "is_authenticated", False) else ""
        zone = zone_named(name or request.COOKIES.get(COOKIE, "")[:64])
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
