"""Parsing of search parameters, shared by the listing page and the products API."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict

from catalog.errors import InvalidPriceRange, InvalidSearch
from catalog.selectors import SORTS

# API parameter name -> form field name (the page uses the form names, ``q`` like the header search).
API_PARAMS = {
    "query": "q",
    "category": "category",
    "brand": "brand",
    "size": "size",
    "color": "color",
    "minPrice": "min_price",
    "maxPrice": "max_price",
    "sort": "sort",
    "inStock": "in_stock",
}
API_NAMES = {form_name: api_name for api_name, form_name in API_PARAMS.items()}


class ProductSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    category = forms.CharField(required=False, max_length=120)
    brand = forms.CharField(required=False, max_length=80)
    size = forms.CharField(required=False, max_length=20)
    color = forms.CharField(required=False, max_length=40, label="Colour")
    min_price = forms.DecimalField(
        required=False, min_value=0, max_digits=10, decimal_places=2, label="Min price"
    )
    max_price = forms.DecimalField(
        required=False, min_value=0, max_digits=10, decimal_places=2, label="Max price"
    )
    sort = forms.ChoiceField(required=False, choices=list(SORTS.items()), label="Sort by")
    in_stock = forms.BooleanField(required=False, label="In stock only")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("min_price", "The minimum price must not be above the maximum price.")
        return data

    def search_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`catalog.selectors.product_search` (call after ``is_valid``)."""
        d = self.cleaned_data
        return {
            "query": d.get("q") or "",
            "category": d.get("category") or None,
            "brand": d.get("brand") or None,
            "size": d.get("size") or None,
            "color": d.get("color") or None,
            "min_price": d.get("min_price"),
            "max_price": d.get("max_price"),
            "sort": d.get("sort") or "relevance",
            "in_stock_only": bool(d.get("in_stock")),
        }


def page_search_form(params: QueryDict) -> ProductSearchForm:
    """The bound form for a listing URL; ``query`` is accepted as an alias of ``q``."""
    data = params.copy()
    query = data.get("query")
    if not data.get("q") and query:
        data["q"] = query
    return ProductSearchForm(data)


# A price as the API takes it: plain digits, at most two decimals (what min_price/max_price store).
PRICE_PATTERN = r"^([0-9]{1,8}(\.[0-9]{1,2})?)?$"  # empty: no bound


def search_kwargs_from_api(params: QueryDict) -> dict[str, Any]:
    """``product_search`` arguments from API query parameters; :class:`InvalidSearch` (400) if unusable,
    :class:`InvalidPriceRange` (422) for a minPrice above maxPrice (the schema states each, not both)."""
    data = {form_name: params.get(api_name, "") for api_name, form_name in API_PARAMS.items()}
    # The API documents a JSON Schema boolean: "true" or "false", nothing else read as one of them.
    if data["in_stock"] not in ("", "true", "false"):
        raise InvalidSearch(
            "inStock: use true or false.",
            details={"field": "inStock", "fields": {"inStock": ["true or false"]}},
        )
    if data["in_stock"] == "false":
        data["in_stock"] = ""
    for form_name in ("min_price", "max_price"):
        if data[form_name] and not re.fullmatch(PRICE_PATTERN, data[form_name]):
            api_name = API_NAMES[form_name]
            raise InvalidSearch(
                f"{api_name}: a price like 50 or 49.99.",
                details={"field": api_name, "fields": {api_name: ["a price like 50 or 49.99"]}},
            )
    if data["min_price"] and data["max_price"] and Decimal(data["min_price"]) > Decimal(data["max_price"]):
        message = "The minimum price must not be above the maximum price."
        raise InvalidPriceRange(
            f"minPrice: {message}", details={"field": "minPrice", "fields": {"minPrice": [message]}}
        )
    form = ProductSearchForm(data)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        api_field = API_NAMES.get(field, field)
        raise InvalidSearch(
            f"{api_field}: {errors[0]}",
            details={"field": api_field, "fields": {API_NAMES.get(f, f): e for f, e in form.errors.items()}},
        )
    return form.search_kwargs()
