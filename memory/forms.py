"""The memory page's preferences form. It only shapes input: the rules (sizes per kind, the
catalog's vocabulary, price range) are checked by ``services.preferences_update``, whose
``InvalidPreference`` details are put back on the matching fields by :meth:`add_service_errors`."""

from __future__ import annotations

from typing import Any

from django import forms

from memory.sizes import TOP_SIZES
from memory.types import Preferences

# API field (as in InvalidPreference details) -> form field
FIELD_OF_API = {
    "sizes.tops": "size_tops",
    "sizes.bottoms": "size_bottoms",
    "sizes.shoes": "size_shoes",
    "brands": "brands",
    "dislikedBrands": "disliked_brands",
    "categories": "categories",
    "styles": "styles",
    "colors": "colors",
    "dislikedColors": "disliked_colors",
    "priceMin": "price_min",
    "priceMax": "price_max",
}
LIST_HELP = "Separate several with commas."


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class PreferencesForm(forms.Form):
    size_tops = forms.ChoiceField(
        label="Size for tops, hoodies and jackets",
        required=False,
        choices=[("", "No preference"), *[(s, s) for s in TOP_SIZES]],
    )
    size_bottoms = forms.CharField(
        label="Size for jeans, shorts and leggings",
        required=False,
        max_length=4,
        help_text="Waist 26-44, or S to XL.",
    )
    size_shoes = forms.CharField(
        label="Shoe size", required=False, max_length=5, help_text="4 to 15, halves included (e.g. 10.5)."
    )
    brands = forms.CharField(label="Brands you like", required=False, max_length=500, help_text=LIST_HELP)
    disliked_brands = forms.CharField(label="Brands you'd rather not see", required=False, max_length=500)
    categories = forms.CharField(
        label="Categories you like", required=False, max_length=500, help_text=LIST_HELP
    )
    styles = forms.CharField(
        label="Styles you like", required=False, max_length=500, help_text="For example denim, trail, casual."
    )
    colors = forms.CharField(label="Colours you like", required=False, max_length=500, help_text=LIST_HELP)
    disliked_colors = forms.CharField(label="Colours you'd rather avoid", required=False, max_length=500)
    price_min = forms.DecimalField(
        label="Lowest price", required=False, min_value=0, decimal_places=2, max_digits=9
    )
    price_max = forms.DecimalField(
        label="Highest price", required=False, min_value=0, decimal_places=2, max_digits=9
    )

    @classmethod
    def initial_from(cls, prefs: Preferences) -> dict[str, Any]:
        return {
            "size_tops": prefs.sizes.get("tops") or "",
            "size_bottoms": prefs.sizes.get("bottoms") or "",
            "size_shoes": prefs.sizes.get("shoes") or "",
            "brands": ", ".join(prefs.brands),
            "disliked_brands": ", ".join(prefs.disliked_brands),
            "categories": ", ".join(prefs.categories),
            "styles": ", ".join(prefs.styles),
            "colors": ", ".join(prefs.colors),
            "disliked_colors": ", ".join(prefs.disliked_colors),
            "price_min": prefs.price_min,
            "price_max": prefs.price_max,
        }

    def changes(self) -> dict[str, Any]:
        """The whole form as an update: an emptied field forgets that preference."""
        data = self.cleaned_data
        return {
            "sizes": {
                "tops": data["size_tops"] or None,
                "bottoms": data["size_bottoms"].strip() or None,
                "shoes": data["size_shoes"].strip() or None,
            },
            "brands": _split(data["brands"]),
            "dislikedBrands": _split(data["disliked_brands"]),
            "categories": _split(data["categories"]),
            "styles": _split(data["styles"]),
            "colors": _split(data["colors"]),
            "dislikedColors": _split(data["disliked_colors"]),
            "priceMin": data["price_min"],
            "priceMax": data["price_max"],
        }

    def add_service_errors(self, message: str, details: dict[str, Any]) -> None:
        fields = details.get("fields") or {}
        placed = False
        for api_field, text in fields.items():
            name = FIELD_OF_API.get(api_field)
            if name:
                self.add_error(name, text)
                placed = True
        if not placed:
            self.add_error(FIELD_OF_API.get(details.get("field") or ""), message)
