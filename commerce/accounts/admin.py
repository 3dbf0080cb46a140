from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from commerce.accounts.models import RatePenalty, ShopperSession, User


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


class PenaltyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("over", "Ended or lifted")]

    def queryset(self, request, queryset):
        active = RatePenalty.objects.active()
        if self.value() == "active":
            return queryset.filter(pk__in=active)
        if self.value() == "over":
            return queryset.exclude(pk__in=active)
        return queryset


@admin.register(RatePenalty)
class RatePenaltyAdmin(admin.ModelAdmin):
    """Rate-limit penalties (issue 18): who is refused and until when; staff lift them here."""

    list_display = ["client", "level", "started_at", "ends_at", "is_active", "lifted_at", "lifted_by"]
    list_filter = [PenaltyStateFilter]
    search_fields = ["client"]
    readonly_fields = ["client", "level", "started_at", "ends_at", "lifted_at", "lifted_by"]
    actions = ["lift"]

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: RatePenalty) -> bool:
        return obj.is_active()

    @admin.action(description="Lift the selected penalties (the client may send requests again)")
    def lift(self, request, queryset):
        from commerce.ratelimit import penalty_lift

        for penalty in queryset:
            penalty_lift(penalty=penalty, by=request.user)
        self.message_user(request, f"Lifted {queryset.count()} penalties.")

    def has_add_permission(self, request) -> bool:
        return False
