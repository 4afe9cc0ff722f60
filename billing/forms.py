from django import forms


class CardForm(forms.Form):
    """The local test-card page (localstripe only; Stripe Checkout collects cards in production)."""

    number = forms.CharField(label="Card number", max_length=23, initial="4242 4242 4242 4242")
    exp_month = forms.IntegerField(label="Expiry month", min_value=1, max_value=12, initial=12)
    exp_year = forms.IntegerField(label="Expiry year", min_value=2024, max_value=2099, initial=2030)
    cvc = forms.CharField(label="CVC", max_length=3, min_length=3, initial="123")


class RefundForm(forms.Form):
    amount = forms.DecimalField(label="Amount", min_value=0.01, decimal_places=2, max_digits=10)
    reason = forms.CharField(
        label="Reason (the learner sees it)", max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )


class StaffActionForm(forms.Form):
    """Staff changing a subscription from the admin: why (always), and by how many days (a trial extension)."""

    reason = forms.CharField(
        label="Reason (recorded with your name; the learner's e-mail quotes it)",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    trial_days = forms.IntegerField(label="Extend the trial by (days)", min_value=1, max_value=90, required=False)

    def __init__(self, *args, extend_trial: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if extend_trial:
            self.fields["trial_days"].required = True
        else:
            del self.fields["trial_days"]


def _course_choices() -> list[tuple[int, str]]:
    from courses import api as courses

    return [(course.course_id, course.title) for course in courses.courses_all()]


class FinancialAidForm(forms.Form):
    """A learner's short application for financial aid."""

    circumstances = forms.CharField(
        label="Why can you not pay for the subscription?",
        min_length=20,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A few sentences: 20 to 2000 characters. Only staff read it.",
    )
    goals = forms.CharField(
        label="What do you want to do with what you learn?",
        min_length=20,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="20 to 2000 characters.",
    )
    scope = forms.ChoiceField(
        label="What do you ask for?",
        choices=[("whole", "The whole specialization"), ("courses", "Only the courses I choose below")],
        initial="whole",
        widget=forms.RadioSelect,
    )
    course_ids = forms.TypedMultipleChoiceField(
        label="Courses", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course_ids"].choices = _course_choices()


class AccessGrantForm(forms.ModelForm):
    """Staff giving complimentary access in the admin: the courses as checkboxes, not ids."""

    courses = forms.TypedMultipleChoiceField(
        label="Courses", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        from .models import AccessGrant

        model = AccessGrant
        fields = ["user", "kind", "whole_specialization", "until", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["courses"].choices = _course_choices()

    def clean(self):
        from django.utils import timezone

        from .services import BillingError, check_grant

        data = super().clean()
        try:
            check_grant(
                whole_specialization=data.get("whole_specialization", False),
                course_ids=data.get("courses") or [],
                until=data.get("until"),
                today=timezone.localdate(),
            )
        except BillingError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


class AidDecisionForm(forms.Form):
    until = forms.DateField(
        label="Free access until (approve)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label="Note to the learner (required to decline)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
