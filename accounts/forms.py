from django import forms

from .models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name", "bio"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"name": "Your name as it should appear on certificates."}
