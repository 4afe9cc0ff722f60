"""Users and their roles. Sign-up, log-in and e-mail verification are django-allauth's."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class Role(models.TextChoices):
    LEARNER = "learner", "Learner"
    MENTOR = "mentor", "Mentor"
    PEER_REVIEWER = "peer_reviewer", "Peer reviewer"
    STAFF = "staff", "Staff"


class EmailUserManager(UserManager):
    """Users log in with their e-mail address; there is no username."""

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    username = None
    first_name = None
    last_name = None
    email = models.EmailField("e-mail address", unique=True)
    name = models.CharField("full name", max_length=150, blank=True, help_text="Shown on certificates.")
    bio = models.TextField(blank=True, max_length=2000)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="IANA name (Europe/Paris). Dates and times are shown in it; empty: set from the browser on the "
        "next visit, the site's zone until then.",
    )
    # Every user is a learner; these add to it. Staff is Django's is_staff.
    is_mentor = models.BooleanField(default=False, help_text="Answers in the forums; endorsed posts.")
    is_peer_reviewer = models.BooleanField(default=False, help_text="Grades assigned peer-review work.")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    @property
    def roles(self) -> list[Role]:
        roles = [Role.LEARNER]
        if self.is_mentor:
            roles.append(Role.MENTOR)
        if self.is_peer_reviewer:
            roles.append(Role.PEER_REVIEWER)
        if self.is_staff:
            roles.append(Role.STAFF)
        return roles
