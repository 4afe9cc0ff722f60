"""factory_boy factories for the whole suite."""

import datetime

import factory
from allauth.account.models import EmailAddress

from accounts.models import User
from courses.models import Course, Enrollment, Interview, Item, ItemKind, Lecture, Reading, Specialization, Week


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"learner{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class SpecializationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Specialization
        django_get_or_create = ["slug"]

    slug = "deep-learning"
    title = "Deep Learning Specialization"
    tagline = "Learn deep learning."


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    specialization = factory.SubFactory(SpecializationFactory)
    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    order = factory.Sequence(lambda n: n)
    release_date = datetime.date(2026, 1, 1)


class WeekFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Week

    course = factory.SubFactory(CourseFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Week title {n}")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    week = factory.SubFactory(WeekFactory)
    course = factory.SelfAttribute("week.course")
    slug = factory.Sequence(lambda n: f"item-{n}")
    title = factory.Sequence(lambda n: f"Item {n}")
    kind = ItemKind.READING
    order = factory.Sequence(lambda n: n)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)


CUES = [
    {"start": 0.0, "end": 2.0, "text": "First line."},
    {"start": 2.0, "end": 4.0, "text": "Second line."},
    {"start": 4.0, "end": 10.0, "text": "Third line."},
]


class LectureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lecture

    item = factory.SubFactory(ItemFactory, kind=ItemKind.LECTURE)
    captions = factory.LazyFunction(lambda: [dict(c) for c in CUES])
    duration_seconds = 10.0


class ReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reading

    item = factory.SubFactory(ItemFactory, kind=ItemKind.READING)
    body = "# Notes\n\nThe sigmoid is $\\sigma(z) = 1/(1+e^{-z})$.\n"


class InterviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interview

    specialization = factory.SubFactory(SpecializationFactory)
    slug = factory.Sequence(lambda n: f"guest-{n}")
    title = factory.Sequence(lambda n: f"Heroes: Guest {n}")
    guest = factory.Sequence(lambda n: f"Guest {n}")
    captions = factory.LazyFunction(lambda: [dict(c) for c in CUES])
    duration_seconds = 10.0


# ---- billing ---------------------------------------------------------------------------------


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "billing.Plan"

    stripe_product_id = "prod_test"
    stripe_price_id = factory.Sequence(lambda n: f"price_test_{n}")
    synced_amount_cents = 4900
    synced_currency = "usd"


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """An active subscription; pass status/trial_end/past_due_since/ended_at for other states."""

    class Meta:
        model = "billing.Subscription"

    user = factory.SubFactory(UserFactory)
    plan = factory.SubFactory(PlanFactory)
    stripe_subscription_id = factory.Sequence(lambda n: f"sub_test_{n}")
    stripe_customer_id = factory.Sequence(lambda n: f"cus_test_{n}")
    status = "active"
    amount_cents = 4900
    current_period_start = factory.LazyFunction(lambda: _now() - datetime.timedelta(days=3))
    current_period_end = factory.LazyFunction(lambda: _now() + datetime.timedelta(days=27))


def _now():
    from django.utils import timezone

    return timezone.now()


# --- Quizzes and certificates (issue 6)


class QuizFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "quizzes.Quiz"

    item = factory.SubFactory(ItemFactory, kind=ItemKind.QUIZ)


class QuestionPoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "quizzes.QuestionPool"

    quiz = factory.SubFactory(QuizFactory)
    order = factory.Sequence(lambda n: n)


class QuestionFactory(factory.django.DjangoModelFactory):
    """A single-choice question with options 'right' (correct) and 'wrong'."""

    class Meta:
        model = "quizzes.Question"
        skip_postgeneration_save = True

    pool = factory.SubFactory(QuestionPoolFactory)
    order = factory.Sequence(lambda n: n)
    kind = "single"
    prompt = factory.Sequence(lambda n: f"Question {n}: what is $x_{n}$?")
    explanation = "Because of the chain rule."

    @factory.post_generation
    def options(self, create, extracted, **kwargs):
        if not create or self.kind not in ("single", "multiple"):
            return
        from quizzes.models import Option

        for order, (text, correct) in enumerate(extracted or [("right", True), ("wrong", False)]):
            Option.objects.create(question=self, order=order, text=text, is_correct=correct)


class CertificateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "certificates.Certificate"

    user = factory.SubFactory(UserFactory)
    kind = "course"
    course = factory.SubFactory(CourseFactory)
    specialization = factory.SelfAttribute("course.specialization")
    learner_name = factory.SelfAttribute("user.name")
    title = factory.SelfAttribute("course.title")
    completed_at = factory.LazyFunction(lambda: datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC))
    issued_at = factory.LazyFunction(lambda: datetime.datetime(2026, 3, 2, 10, 1, tzinfo=datetime.UTC))


class NotificationFactory(factory.django.DjangoModelFactory):
    """An in-site notification row as notify() writes it (for volume: lists, the bell). Tests of notify()
    itself go through notifications.api."""

    class Meta:
        model = "notifications.Notification"

    recipient = factory.SubFactory(UserFactory)
    kind = "demo.event"
    event_key = factory.Sequence(lambda n: f"demo.event:{n}")
    title = factory.Sequence(lambda n: f"Something happened ({n})")
    url = "/courses/"
    created_at = factory.Sequence(
        lambda n: datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC) + datetime.timedelta(minutes=n)
    )
    email = "none"
