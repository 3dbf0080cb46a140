"""Account pages: sign in, register, sign out, profile. The guest cart merges on sign-in."""

from __future__ import annotations

import base64

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device

from commerce.accounts.errors import EmailTaken
from commerce.accounts.forms import (
    AccessTokenForm,
    AccountForm,
    EmailAuthenticationForm,
    PasswordChangeForm,
    RegistrationForm,
    ThrottledPasswordResetForm,
)
from commerce.accounts.models import User
from commerce.accounts.selectors import access_tokens_for_user
from commerce.accounts.services import (
    access_token_create,
    access_token_revoke,
    account_update,
    mfa_enrolment_confirm,
    mfa_enrolment_start,
    shopper_sign_in,
    user_change_password,
    user_password_was_reset,
    user_register,
)
from commerce.accounts.shoppers import SignedInRequest, remember_page_session, shopper_from_page
from commerce.errors import DomainError, RateLimited


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _sign_in(request: HttpRequest, user: User) -> None:
    guest = shopper_from_page(request).session
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    remember_page_session(request, shopper_sign_in(user=user, session=guest, channel="web"))


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = EmailAuthenticationForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        _sign_in(request, form.get_user())
        messages.success(request, "Welcome back. Your cart came with you.")
        return redirect(_next_url(request))
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)})


@require_http_methods(["GET", "POST"])
def register_view(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_register(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                name=form.cleaned_data["name"],
                request=request,
            )
        except (EmailTaken, RateLimited) as exc:
            form.add_error("email", exc.message)
        except ValidationError as exc:
            form.add_error("password1", exc)
        else:
            _sign_in(request, user)
            messages.success(request, "Your account is ready.")
            return redirect(_next_url(request))
    return render(request, "accounts/register.html", {"form": form, "next": _next_url(request)})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    response = redirect("/")
    # The browser drops what this site cached or stored for the signed-in person (ASVS 14.3.1). Not
    # "cookies": that would also drop the guest cart and the "signed out" message just set.
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def password_change_view(request: SignedInRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_change_password(
                user=request.user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password1"],
                request=request,
            )
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        except DomainError as exc:  # wrong current password, or locked after too many
            form.add_error("current_password", exc.message)
        else:
            # This page stays signed in; every other page session ends with the old password's hash.
            update_session_auth_hash(request, request.user)
            messages.success(request, "Your password is changed. Other devices are signed out.")
            return redirect("accounts:account")
    return render(request, "accounts/password_change.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset view and tokens; the form counts requests per client address."""

    form_class = ThrottledPasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # A reset is a password change: the same revocation of tokens and sockets follows.
        user_password_was_reset(user=form.user)
        return response


def _qr_code(uri: str) -> dict[str, str]:
    """The provisioning URI as a QR code drawn here (no third party sees the secret): the SVG's view box
    and path, which the template writes out as inline SVG (autoescaped, no ``style``, so the CSP holds)."""
    root = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10).get_image()
    path = next(element for element in root.iter() if str(element.tag).endswith("path"))
    return {"view_box": root.attrib["viewBox"], "path": path.attrib["d"]}


@login_required
@require_http_methods(["GET", "POST"])
def mfa_enrol_view(request: SignedInRequest) -> HttpResponse:
    """Staff add an authenticator app. Replacing a confirmed one needs a session verified with it, so a
    stolen password alone cannot enrol the thief's phone."""
    user = request.user
    if not user.is_staff:
        raise PermissionDenied("Two-factor sign-in is for staff accounts.")
    if user_has_device(user) and not user.is_verified():
        messages.info(request, "Sign in to the admin with your current code first to replace it.")
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    device = mfa_enrolment_start(user=user)
    error = ""
    if request.method == "POST":
        try:
            device, codes = mfa_enrolment_confirm(user=user, token=request.POST.get("token", ""))
        except DomainError as exc:
            error = exc.message
        else:
            otp_login(request, device)
            return render(request, "accounts/mfa_codes.html", {"codes": codes})
    secret = base64.b32encode(device.bin_key).decode()
    context = {"qr": _qr_code(device.config_url), "secret": secret, "error": error}
    return render(request, "accounts/mfa_enrol.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def account_view(request: SignedInRequest) -> HttpResponse:
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        account_update(user=request.user, **{f: form.cleaned_data[f] for f in form.Meta.fields})
        messages.success(request, "Saved.")
        return redirect("accounts:account")
    return render(request, "accounts/account.html", {"form": form})


TOKENS_PAGE = "accounts/tokens.html"


def _tokens_page(
    request: SignedInRequest, form: AccessTokenForm, *, secret: str = "", notice: str = "", status: int = 200
) -> HttpResponse:
    """The page, or with HTMX just its tokens section; never cached, since it may carry a new secret."""
    tokens = access_tokens_for_user(request.user)
    context = {"form": form, "tokens": tokens, "secret": secret, "notice": notice}
    template = f"{TOKENS_PAGE}#tokens" if request.htmx else TOKENS_PAGE
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def tokens_view(request: SignedInRequest) -> HttpResponse:
    """GET lists the shopper's tokens; POST makes one and shows its secret this once."""
    form = AccessTokenForm(request.POST or None)
    if request.method == "GET":
        return _tokens_page(request, form)
    if form.is_valid():
        try:
            _token, secret = access_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return _tokens_page(request, AccessTokenForm(), secret=secret)
    return _tokens_page(request, form, status=400)


@login_required
@require_POST
def token_revoke_view(request: SignedInRequest, token_id: int) -> HttpResponse:
    try:
        token = access_token_revoke(user=request.user, token_id=token_id)
    except DomainError as exc:
        return _tokens_page(request, AccessTokenForm(), notice=exc.message, status=exc.status_code)
    if request.htmx:
        return _tokens_page(request, AccessTokenForm(), notice=f"Revoked {token.name}.")
    messages.success(request, f"Revoked {token.name}.")
    return redirect("accounts:tokens")
