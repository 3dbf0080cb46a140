from django import forms


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
    token = forms.CharField(
        label="Payment token",
        max_length=80,
        initial="pm_test_visa",
        help_text=(
            "This store runs a test payment gateway, so no real card is charged: a token starting "
            "<code>pm_test_</code> (for example <code>pm_test_visa</code>) is approved, one starting "
            "<code>pm_fail_</code> is declined."
        ),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    ADDRESS_FIELDS = ("name", "line1", "line2", "city", "state", "postalCode", "country")


class AddressForm(forms.Form):
    name = forms.CharField(max_length=200)
    line1 = forms.CharField(label="Address", max_length=200)
    line2 = forms.CharField(max_length=200, required=False)
    city = forms.CharField(max_length=200)
    state = forms.CharField(max_length=200, required=False)
    postalCode = forms.CharField(label="Postal code", max_length=20)
    country = forms.CharField(max_length=60)
