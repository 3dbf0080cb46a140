from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from commerce.accounts.models import ShopperSession, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "voice_opt_in", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "voice_opt_in"]
    search_fields = ["email", "name", "phone"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "phone", "timezone", "voice_opt_in")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)


@admin.register(ShopperSession)
class ShopperSessionAdmin(admin.ModelAdmin):
    list_display = ["key", "channel", "user", "created_at", "last_seen_at", "expires_at", "ended_at"]
    list_filter = ["channel"]
    search_fields = ["key", "user__email"]
    readonly_fields = ["key", "created_at", "last_seen_at"]
    raw_id_fields = ["user"]
