"""Operators see every notification and e-mail; the outbox is read-only, with "retry failed" for rows that
used up their attempts (after fixing whatever made them fail)."""

from django.contrib import admin, messages

from . import services
from .models import Digest, EmailOutbox, Notification, OutboxStatus, Preference


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "recipient", "created_at", "read_at", "email", "digest"]
    list_filter = ["kind", "email", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "event_key", "recipient__email"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    raw_id_fields = ["recipient", "actor", "digest"]


@admin.register(EmailOutbox)
class EmailOutboxAdmin(ReadOnlyAdmin):
    list_display = ["subject", "recipient", "kind", "status", "attempts", "created_at", "next_attempt_at", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["subject", "event_key", "message_id", "recipient__email", "to_email"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    raw_id_fields = ["recipient", "notification"]
    actions = ["retry_failed"]

    @admin.action(description="Retry the selected failed e-mails")
    def retry_failed(self, request, queryset):
        count = services.outbox_retry(
            outbox_ids=queryset.filter(status=OutboxStatus.FAILED).values_list("pk", flat=True)
        )
        skipped = queryset.count() - count
        self.message_user(request, f"{count} e-mail(s) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} selected e-mail(s) had not failed and were left alone.", messages.INFO
            )


@admin.register(Digest)
class DigestAdmin(ReadOnlyAdmin):
    list_display = ["date", "user", "item_count", "outbox"]
    list_filter = ["date"]
    search_fields = ["user__email"]
    list_select_related = ["user", "outbox"]
    raw_id_fields = ["user", "outbox"]


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "email", "updated_at"]
    list_filter = ["kind", "email"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
