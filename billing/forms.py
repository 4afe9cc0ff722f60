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
