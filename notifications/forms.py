from django import forms

from .models import EmailChoice
from .selectors import PreferenceView


class PreferencesForm(forms.Form):
    """One radio group per kind the user can receive: immediate, daily digest, or no e-mail."""

    def __init__(self, *args, rows: list[PreferenceView], **kwargs):
        super().__init__(*args, **kwargs)
        self.kind_for_field: dict[str, str] = {}
        for row in rows:
            name = "kind-" + row.kind.key.replace(".", "-")
            self.kind_for_field[name] = row.kind.key
            self.fields[name] = forms.ChoiceField(
                label=row.kind.label,
                help_text=row.kind.description,
                choices=EmailChoice.choices,
                initial=row.email,
                widget=forms.RadioSelect,
            )

    def choices(self) -> dict[str, str]:
        """kind key -> chosen e-mail setting (after is_valid())."""
        return {self.kind_for_field[name]: value for name, value in self.cleaned_data.items()}
