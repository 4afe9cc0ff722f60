"""Keep the django.contrib.sites row in step with settings.SITE_DOMAIN / SITE_NAME.

allauth writes the site's name and domain into its e-mails ("Hello from …", links). The row is
created once by the sites app as example.com; this sets it from the settings in a data migration and
again after every `migrate`, so changing the environment variables takes effect on the next deploy.
"""

from django.conf import settings
from django.core.management.color import no_style
from django.db import connections


def site_sync(*, site_model, using: str = "default") -> None:
    """Create or update the Site with pk SITE_ID from the settings (a no-op when it already matches)."""
    domain, name = settings.SITE_DOMAIN, settings.SITE_NAME
    site = site_model.objects.using(using).filter(pk=settings.SITE_ID).first()
    if site is None:
        site_model.objects.using(using).create(pk=settings.SITE_ID, domain=domain, name=name)
        # An explicit pk does not move PostgreSQL's sequence: reset it as the sites app does.
        connection = connections[using]
        sequence_sql = connection.ops.sequence_reset_sql(no_style(), [site_model])
        if sequence_sql:
            with connection.cursor() as cursor:
                for command in sequence_sql:
                    cursor.execute(command)
    elif (site.domain, site.name) != (domain, name):
        site.domain, site.name = domain, name
        site.save(using=using, update_fields=["domain", "name"])


def site_sync_after_migrate(sender, *, using: str = "default", apps=None, **kwargs) -> None:
    """post_migrate receiver. Uses the migration state's model when given (the table may be new)."""
    from django.contrib.sites.models import Site

    site_model = apps.get_model("sites", "Site") if apps is not None else Site
    site_sync(site_model=site_model, using=using)
    Site.objects.clear_cache()
