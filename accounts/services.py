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


def user_update_profile(*, user: User, name: str, bio: str) -> User:
    user.name = name.strip()
    user.bio = bio.strip()
    user.save(update_fields=["name", "bio"])
    return user
