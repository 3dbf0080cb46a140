from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.urls import reverse
from django_otp import user_has_device
from django_otp.admin import OTPAdminSite

from commerce.accounts.forms import AdminLoginForm, LockAwareLoginMixin
from commerce.accounts.models import RatePenalty, ShopperSession, User
from commerce.accounts.services import mfa_reset, user_deactivated
from commerce.accounts.throttle import login_unlock
from commerce.audit.admin_actions import AuditedActionsMixin


class AdminPasswordLoginForm(LockAwareLoginMixin, AdminAuthenticationForm):
    """The admin's sign-in when MFA is not required (the embedded demo), under the login locks."""


class StoreAdminSite(OTPAdminSite):
    """The admin. With ADMIN_MFA_REQUIRED only a session verified with an OTP device gets in: a staff
    member signed in with a password alone is sent to the sign-in step that asks for the code. Read on
    every request, so a test can switch it."""

    @property
    def login_form(self):
        return AdminLoginForm if settings.ADMIN_MFA_REQUIRED else AdminPasswordLoginForm

    @property
    def login_template(self):
        return "admin/mfa_login.html" if settings.ADMIN_MFA_REQUIRED else None

    def has_permission(self, request) -> bool:
        if settings.ADMIN_MFA_REQUIRED:
            return super().has_permission(request)
        return AdminSite.has_permission(self, request)

    def each_context(self, request):
        context = super().each_context(request)
        user = request.user
        context["mfa_enrol_url"] = reverse("accounts:mfa-enrol")
        context["mfa_required"] = settings.ADMIN_MFA_REQUIRED
        context["mfa_enrolled"] = user.is_authenticated and user_has_device(user)
        return context


@admin.register(User)
class UserAdmin(AuditedActionsMixin, BaseUserAdmin):
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
    actions = ["unlock_sign_in", "reset_mfa"]

    def save_model(self, request, obj, form, change):
        was_active = change and User.objects.filter(pk=obj.pk, is_active=True).exists()
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if was_active and not obj.is_active:
                # Deactivated here: tokens refused and open sockets closed, as through the service.
                user_deactivated(user=obj)

    @admin.action(
        description="Unlock sign-in for the selected accounts (after too many failures)",
        permissions=["change"],
    )
    def unlock_sign_in(self, request, queryset):
        for user in queryset:
            login_unlock(email=user.email)
        self.message_user(request, f"Unlocked sign-in for {queryset.count()} accounts.")

    @admin.action(
        description="Remove the selected staff members' two-factor devices (they enrol again)",
        permissions=["change"],
    )
    def reset_mfa(self, request, queryset):
        removed = sum(mfa_reset(user=user) for user in queryset)
        self.message_user(request, f"Removed {removed} two-factor devices.")


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
class RatePenaltyAdmin(AuditedActionsMixin, admin.ModelAdmin):
    """Rate-limit penalties (issue 18): who is refused and until when; staff lift them here."""

    list_display = ["client", "level", "started_at", "ends_at", "is_active", "lifted_at", "lifted_by"]
    list_filter = [PenaltyStateFilter]
    search_fields = ["client"]
    readonly_fields = ["client", "level", "started_at", "ends_at", "lifted_at", "lifted_by"]
    actions = ["lift"]

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: RatePenalty) -> bool:
        return obj.is_active()

    @admin.action(
        description="Lift the selected penalties (the client may send requests again)", permissions=["change"]
    )
    def lift(self, request, queryset):
        from commerce.ratelimit import penalty_lift

        for penalty in queryset:
            penalty_lift(penalty=penalty, by=request.user)
        self.message_user(request, f"Lifted {queryset.count()} penalties.")

    def has_add_permission(self, request) -> bool:
        return False


# django-axes' own admin offers "clean up expired attempts" to anyone who can view attempts: here it needs
# the delete permission, like any deletion, and is recorded in the audit trail.
if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class StoreAccessAttemptAdmin(AuditedActionsMixin, AccessAttemptAdmin):
    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)
