"""The accounts app's public door: other apps import only this module.

Users are Django's auth users (`settings.AUTH_USER_MODEL`, `get_user_model()`); this module adds what
other apps need to know about them without reaching into accounts' models.
"""

from __future__ import annotations

import dataclasses

from .services import user_create_verified


@dataclasses.dataclass(frozen=True)
class Roles:
    """Every user is a learner; these add to it (see accounts.models.Role)."""

    mentor: bool
    peer_reviewer: bool
    staff: bool


def roles_of(user) -> Roles:
    return Roles(
        mentor=bool(getattr(user, "is_mentor", False)),
        peer_reviewer=bool(getattr(user, "is_peer_reviewer", False)),
        staff=bool(getattr(user, "is_staff", False)),
    )


def user_ids_with_roles(*, staff: bool = False, mentor: bool = False) -> list[int]:
    """Active users holding any of the named roles (e.g. the people who review forum flags)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    condition = Q(pk__in=[])
    if staff:
        condition |= Q(is_staff=True)
    if mentor:
        condition |= Q(is_mentor=True)
    return list(get_user_model().objects.filter(condition, is_active=True).order_by("pk").values_list("pk", flat=True))


def display_name(user) -> str:
    """How a learner is named on pages: their name, else the part of their e-mail before the @."""
    return user.display_name


def certificate_name(user) -> str:
    """The name printed on a certificate."""
    return (getattr(user, "name", "") or user.display_name or user.email).strip()


def time_zones_of(*, user_ids) -> dict[int, str]:
    """Each user's time zone name (their profile setting; "UTC" when unset or unknown), for e-mails that
    state a time: it is written in the reader's zone, with the zone named."""
    from django.contrib.auth import get_user_model

    from .middleware import zone_named

    rows = get_user_model().objects.filter(pk__in=list(user_ids)).values_list("pk", "time_zone")
    return {pk: (name if zone_named(name) else "UTC") for pk, name in rows}


__all__ = [
    "Roles",
    "certificate_name",
    "display_name",
    "roles_of",
    "time_zones_of",
    "user_create_verified",
    "user_ids_with_roles",
]
