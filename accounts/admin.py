from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User

# A user's e-mail addresses are edited on the user, not as an app of their own beside this one.
if admin.site.is_registered(EmailAddress):
    admin.site.unregister(EmailAddress)


class EmailAddressInline(admin.TabularInline):
    model = EmailAddress
    fields = ["email", "verified", "primary"]
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [EmailAddressInline]
    ordering = ["email"]
    list_display = ["email", "name", "is_mentor", "is_peer_reviewer", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_mentor", "is_peer_reviewer", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "bio")}),
        ("Roles", {"fields": ("is_mentor", "is_peer_reviewer", "is_staff", "is_superuser", "is_active")}),
        ("Permissions", {"classes": ("collapse",), "fields": ("groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
