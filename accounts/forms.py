import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from .models import User

NAME_HELP = "Your full name as it will appear on your certificates. Only staff and you see it beside your e-mail."


def name_help(current: str) -> str:
    """The name field's help: what it is for, and how certificates will print it (updated as one types by
    static/js/name-preview.js; without JavaScript it shows what was last entered)."""
    return format_html(
        '{} <span class="name-preview" aria-live="polite">'
        "Certificates will read: <strong data-name-preview>{}</strong></span>",
        NAME_HELP,
        " ".join((current or "").split()) or "your full name",
    )


def clean_full_name(value: str) -> str:
    """A person's name for pages and certificates: spaces normalised, no control characters, not an
    e-mail address (the certificate would print it). Raises ValidationError with a sentence."""
    name = " ".join((value or "").split())
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise ValidationError("Your name contains characters that cannot be printed.")
    if len(name) < 2:
        raise ValidationError("Enter your full name as it should appear on your certificates.")
    if "@" in name or re.search(r"https?://|www\.", name, re.IGNORECASE):
        raise ValidationError("Enter your name, not an e-mail address or a link.")
    return name


class SignupForm(forms.Form):
    """allauth's sign-up form is built on this one (ACCOUNT_SIGNUP_FORM_CLASS): the name comes first."""

    name = forms.CharField(
        label="Full name",
        max_length=150,
        help_text=NAME_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "name", "data-name-input": ""}),
    )

    field_order = ["name", "email", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = name_help(self.data.get("name", "") if self.is_bound else "")

    def clean_name(self):
        return clean_full_name(self.cleaned_data["name"])

    def signup(self, request, user) -> None:
        user.name = self.cleaned_data["name"]
        user.save(update_fields=["name"])


def _zone_choices():
    import zoneinfo

    return [("", "Not set: from my browser")] + [
        (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
    ]


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Deadlines, opening dates and the calendar are shown in this zone.",
    )

    class Meta:
        model = User
        fields = ["name", "bio", "time_zone"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4}), "name": forms.TextInput(attrs={"data-name-input": ""})}
        labels = {"name": "Full name"}
        help_texts = {"name": NAME_HELP}

    def clean_name(self):
        return clean_full_name(self.cleaned_data["name"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.data.get("name", "") if self.is_bound else self.instance.name
        self.fields["name"].help_text = name_help(current)
        self.fields["time_zone"].choices = _zone_choices()
