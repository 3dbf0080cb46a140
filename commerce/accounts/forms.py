from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from commerce.accounts.models import E164_VALIDATOR, User, validate_timezone


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
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
        cleaned = super().clean()
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
