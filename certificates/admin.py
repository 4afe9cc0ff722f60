"""Certificates in the admin: find, open the public page, revoke there (a reason is required)."""

from django.contrib import admin
from django.utils.html import format_html

from .models import Certificate


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["public_id", "learner_name", "title", "issued_at", "status", "page"]
    list_filter = ["kind", "revoked_at"]
    search_fields = ["public_id", "learner_name", "user__email", "title"]
    readonly_fields = [f.name for f in Certificate._meta.fields] + ["page"]

    def has_add_permission(self, request):
        return False  # issued by the completion rules only

    def has_change_permission(self, request, obj=None):
        return False  # revoked from its page, through the service, with a reason

    @admin.display(description="status")
    def status(self, obj):
        return "valid" if obj.is_valid else "revoked"

    @admin.display(description="verification page")
    def page(self, obj):
        return format_html('<a href="{}">open (revoke there)</a>', obj.get_absolute_url())
