from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from commerce.accounts.models import E164_VALIDATOR, PersonalAccessToken, User, validate_timezone
from commerce.accounts.services import (
    ACCESS_TOKEN_LIFETIME_DAYS,
    mfa_sign_in_refused,
    password_reset_allowed,
    password_reset_mail_enqueue,
)
from commerce.accounts.throttle import lockout_message, login_locked
from commerce.errors import DomainError
from commerce.ratelimit import client_address

if TYPE_CHECKING:  # what the mixin is mixed into, for the checker; plain object at run time
    _LoginForm = AuthenticationForm
else:
    _LoginForm = object


class LockAwareLoginMixin(_LoginForm):
    """An AuthenticationForm whose refusal says so when the account or address is locked (axes refuses
    inside ``authenticate``), instead of pretending the password was wrong."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            username = self.cleaned_data.get("username", "")
            request = self.request
            if getattr(request, "axes_locked_out", False) or (
                request is not None and login_locked(request, username)
            ):
                raise ValidationError(lockout_message(), code="rate_limited") from None
            raise


class EmailAuthenticationForm(LockAwareLoginMixin, AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class AdminLoginForm(LockAwareLoginMixin, OTPAdminAuthenticationForm):
    """The admin's sign-in when MFA is required: password and the one-time code, under the same locks.

    With no device picked, the code's shape picks it: six digits are the authenticator app's, anything
    else a backup code. Only that one device is tried, so a wrong code counts against one device's
    throttle, not all of them (the reason django-otp stopped guessing)."""

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            token = (self.cleaned_data.get("otp_token") or "").strip()
            model = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
            device = model.objects.filter(user=user, confirmed=True).order_by("pk").first()
        return device

    def clean_otp(self, user):
        try:
            return super().clean_otp(user)
        except ValidationError:
            if user is not None:
                mfa_sign_in_refused(user=user)  # the password was right, the second factor was not
            raise


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = forms.CharField(
        label="New password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean() or self.cleaned_data
        if cleaned.get("new_password1") and cleaned.get("new_password1") != cleaned.get("new_password2"):
            self.add_error("new_password2", "The two passwords differ.")
        return cleaned


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form; the view counts requests per client address first (PASSWORD_RESET_PER_HOUR)."""

    email = forms.EmailField(
        label="E-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean() or self.cleaned_data
        try:
            password_reset_allowed(client=client_address(self.request))
        except DomainError as exc:
            raise ValidationError(exc.message, code=exc.code) from None
        return cleaned

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        """Not sent here: handed to Celery through the outbox, so an SMTP failure neither fails the
        request nor loses the mail (docs/operations.md, "E-mail")."""
        password_reset_mail_enqueue(
            user=context["user"],
            domain=context["domain"],
            site_name=context["site_name"],
            use_https=context["protocol"] == "https",
        )


class RegistrationForm(forms.Form):
    email = forms.EmailField(label="E-mail", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    name = forms.CharField(
        label="Name", max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password1 = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean() or self.cleaned_data
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned


class AccountForm(forms.ModelForm):
    phone = forms.CharField(
        required=False, validators=[E164_VALIDATOR], help_text="International form, like +14155550123."
    )
    timezone = forms.CharField(
        required=False, validators=[validate_timezone], help_text="For example America/Chicago."
    )

    class Meta:
        model = User
        fields = ["name", "phone", "timezone", "voice_opt_in"]
        labels = {"voice_opt_in": "Call me if I leave items in my cart (at most twice a day, never at night)"}


class AccessTokenForm(forms.Form):
    """A new personal access token: its name, what it may do and how long it lives."""

    name = forms.CharField(
        max_length=80, help_text="So you can tell your tokens apart, e.g. 'Claude Desktop'."
    )
    scopes = forms.MultipleChoiceField(
        choices=PersonalAccessToken.Scope.choices,
        initial=[PersonalAccessToken.Scope.READ],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every token can read; tick cart or orders to let it change your cart or check out.",
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires after",
        coerce=int,
        choices=[(d, f"{d} days") for d in ACCESS_TOKEN_LIFETIME_DAYS],
        initial=30,
    )
