"""Writes to user accounts."""

from allauth.account.models import EmailAddress
from django.db import transaction

from .models import User


@transaction.atomic
def user_create_verified(
    *, email: str, password: str | None, name: str = "", is_staff: bool = False, is_mentor: bool = False
) -> User:
    """Create (or update) a user whose e-mail is already verified; used for demo and fixture accounts.
    password=None: an account nobody can log in to (the authors of the demo forum threads)."""
    email = email.lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email)
    user.name = name or user.name
    user.is_staff = is_staff
    user.is_superuser = is_staff
    user.is_mentor = is_mentor
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def user_update_profile(*, user: User, name: str, bio: str, time_zone: str | None = None) -> User:
    user.name = name.strip()
    user.bio = bio.strip()
    fields = ["name", "bio"]
    if time_zone is not None:
        user.time_zone = time_zone_check(time_zone) if time_zone else ""
        fields.append("time_zone")
    user.save(update_fields=fields)
    return user


class InvalidTimeZone(ValueError):
    """A time zone name that is not in the IANA database."""


def time_zone_check(name: str) -> str:
    """The IANA zone name, cleaned; raises InvalidTimeZone with a sentence for the learner."""
    import zoneinfo

    name = (name or "").strip()
    if name not in zoneinfo.available_timezones():
        raise InvalidTimeZone(f"{name!r} is not a time zone we know: choose one like Europe/Paris or America/New_York.")
    return name


def user_time_zone_from_browser(*, user: User, name: str) -> bool:
    """The browser's zone, on a learner's first visit: stored only while they have none (their own
    choice on the profile page always wins). Returns whether it was stored."""
    name = time_zone_check(name)
    return bool(User.objects.filter(pk=user.pk, time_zone="").update(time_zone=name))
