from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from . import emails, gateway, receivers

        receivers.connect()
        emails.register_kinds()
        gateway.current()  # Stripe or localstripe, chosen once from the settings
