from decimal import Decimal

import factory

from carts.models import Cart, CartLine, Discount
from catalog.tests.factories import VariantFactory
from commerce.accounts.tests.factories import ShopperSessionFactory


class DiscountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Discount

    code = factory.Sequence(lambda n: f"CODE{n}")
    kind = Discount.Kind.PERCENT
    value = Decimal("10.00")


class GuestCartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart

    session = factory.SubFactory(ShopperSessionFactory)


class CartLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartLine

    cart = factory.SubFactory(GuestCartFactory)
    variant = factory.SubFactory(VariantFactory)
    quantity = 1
