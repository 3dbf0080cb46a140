"""Signals other apps listen to (connected in their ``ready()``)."""

from django.dispatch import Signal

# A shopper looked at a product (its page, or the API with a Bearer): user (may be anonymous), product_id.
product_viewed = Signal()
