"""Account pages: sign in, register, sign out, profile. The guest cart merges on sign-in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from commerce.accounts.errors import EmailTaken
from commerce.accounts.forms import AccountForm, EmailAuthenticationForm, RegistrationForm
from commerce.accounts.services import account_update, shopper_sign_in, user_register
from commerce.accounts.shoppers import remember_page_session, shopper_from_page


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _sign_in(request: HttpRequest, user) -> None:
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
            )
        except EmailTaken as exc:
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
    return redirect("/")


@login_required
@require_http_methods(["GET", "POST"])
def account_view(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        account_update(user=request.user, **{f: form.cleaned_data[f] for f in form.Meta.fields})
        messages.success(request, "Saved.")
        return redirect("accounts:account")
    return render(request, "accounts/account.html", {"form": form})
