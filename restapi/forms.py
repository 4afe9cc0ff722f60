from django import forms

from .models import TokenScope
from .services import TOKEN_EXPIRY_CHOICES


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What it is for, so you can tell your tokens apart (e.g. “grade export script”).",
    )
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.READ, widget=forms.RadioSelect)
    expires_in_days = forms.TypedChoiceField(
        label="Expires after",
        coerce=int,
        choices=[(days, f"{days} days") for days in TOKEN_EXPIRY_CHOICES],
        initial=30,
    )
