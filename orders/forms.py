from typing import Any

from django import forms

from orders.payments import get_gateway


class CheckoutForm(forms.Form):
    name = forms.CharField(
        label="Full name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    line1 = forms.CharField(
        label="Address", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    line2 = forms.CharField(label="Apartment, suite (optional)", max_length=200, required=False)
    city = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    state = forms.CharField(label="State / region", max_length=200, required=False)
    postalCode = forms.CharField(
        label="Postal code", max_length=20, widget=forms.TextInput(attrs={"autocomplete": "postal-code"})
    )
    country = forms.CharField(
        max_length=60, initial="US", widget=forms.TextInput(attrs={"autocomplete": "country"})
    )
    card = forms.ChoiceField(
        label="Payment",
        widget=forms.RadioSelect,
        required=False,
        help_text="This store runs a test payment gateway: no real card is charged.",
    )
    token = forms.CharField(
        label="Payment token",
        max_length=80,
        required=False,
        help_text=(
            "Used instead of the card above when given: a token starting <code>pm_test_</code> is "
            "approved, one starting <code>pm_fail_</code> is declined."
        ),
    )
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": "This checkout form was incomplete: reload the page and try again."},
    )

    ADDRESS_FIELDS = ("name", "line1", "line2", "city", "state", "postalCode", "country")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        test_cards = getattr(get_gateway(), "test_cards", ())
        card = self.fields["card"]
        if test_cards and isinstance(card, forms.ChoiceField):
            card.choices = list(test_cards)
            card.initial = test_cards[0][0]
        else:
            # A real gateway: the token (from its card form) is the only way to pay.
            del self.fields["card"]
            self.fields["token"].required = True
            self.fields["token"].help_text = ""

    @property
    def offers_test_cards(self) -> bool:
        return "card" in self.fields

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        payment_token = (data.get("token") or "").strip() or data.get("card") or ""
        if not payment_token and "token" not in self.errors:
            self.add_error("card" if self.offers_test_cards else "token", "Choose how to pay.")
        data["payment_token"] = payment_token
        return data


class AddressForm(forms.Form):
    name = forms.CharField(max_length=200)
    line1 = forms.CharField(label="Address", max_length=200)
    line2 = forms.CharField(max_length=200, required=False)
    city = forms.CharField(max_length=200)
    state = forms.CharField(max_length=200, required=False)
    postalCode = forms.CharField(label="Postal code", max_length=20)
    country = forms.CharField(max_length=60)
