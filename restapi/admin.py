from django.contrib import admin

from .models import IdempotencyRecord, PersonalAccessToken


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    """Staff see and can revoke tokens; the secret is never stored, so it is never shown."""

    list_display = ["name", "user", "prefix", "scope", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    search_fields = ["user__email", "name", "prefix"]
    readonly_fields = ["user", "prefix", "digest", "scope", "created_at", "expires_at", "last_used_at"]
    fields = ["name", "user", "prefix", "scope", "created_at", "expires_at", "last_used_at", "revoked_at", "digest"]

    def has_add_permission(self, request):
        return False  # tokens are made by their owner, on the profile's token page


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["key", "user", "method", "path", "status_code", "created_at", "expires_at"]
    search_fields = ["user__email", "key", "path"]
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]

    def has_add_permission(self, request):
        return False
