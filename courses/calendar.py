"""The learner's calendar feed (iCalendar, RFC 5545) built with the `icalendar` library: suggested
deadlines and week openings, read by Google Calendar, Outlook or Apple Calendar from a secret address."""

from __future__ import annotations

import datetime

from django.conf import settings
from icalendar import Calendar, Event

from .selectors import CalendarEvent


def calendar_ics(*, events: list[CalendarEvent], name: str, now: datetime.datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Deep Learning Specialization//deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
    for item in events:
        event = Event()
        event.add("uid", f"{item.uid}@{host}")
        event.add("summary", item.summary)
        event.add("url", settings.SITE_URL.rstrip("/") + item.url)
        event.add("dtstamp", now.astimezone(datetime.UTC))
        if item.day is not None:
            event.add("dtstart", item.day)
            event.add("dtend", item.day + datetime.timedelta(days=1))
        else:
            event.add("dtstart", item.at.astimezone(datetime.UTC))
            event.add("dtend", item.at.astimezone(datetime.UTC))
        calendar.add_component(event)
    return calendar.to_ical()
