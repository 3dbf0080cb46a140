from decimal import Decimal

import factory

from catalog.models import Category, Product, Variant


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    brand = "Stride"
    category = factory.SubFactory(CategoryFactory)
    description = "A product."
    tags = factory.LazyFunction(list)


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    size = "M"
    color = "black"
    price = Decimal("49.99")
    stock = 10


def import_record(
    name, brand, category, skus, *, price="99.99", stock=10, description="", tags=(), size="10", color="black"
):
    """An import record with one variant per sku (tests vary only what they need)."""
    return {
        "name": name,
        "brand": brand,
        "category": category,
        "description": description,
        "tags": list(tags),
        "imageUrl": "",
        "variants": [
            {"sku": sku, "size": size, "color": color, "price": price, "stock": stock} for sku in skus
        ],
    }
