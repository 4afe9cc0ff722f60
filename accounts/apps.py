from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's app is also called "Accounts" in the admin: ours holds the users and their roles.
    verbose_name = "Users and roles"

    def ready(self):
        from .sites import site_sync_after_migrate

        # Once per `migrate` (sender=this app), after the tables exist: SITE_DOMAIN/SITE_NAME may change.
        post_migrate.connect(site_sync_after_migrate, sender=self, dispatch_uid="accounts_site_sync")
