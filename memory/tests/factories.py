"""A small store for memory tests: every size kind, several brands, colours and tags."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from catalog.models import Category, Product, Variant


@dataclass
class Store:
    hoodie: Product
    tee: Product
    jeans: Product
    shoe: Product
    socks: Product
    neon: Product
    categories: dict[str, Category]


def _category(name: str, parent: Category | None = None) -> Category:
    slug = name.lower().replace(" & ", "-").replace(" ", "-")
    return Category.objects.create(name=name, slug=slug, parent=parent)


def _product(name: str, brand: str, category: Category, tags: list[str], variants: list[tuple]) -> Product:
    product = Product.objects.create(
        name=name, slug=name.lower().replace(" ", "-"), brand=brand, category=category, tags=tags
    )
    for i, (size, color, price, stock) in enumerate(variants):
        Variant.objects.create(
            product=product,
            sku=f"{product.slug}-{i}",
            size=size,
            color=color,
            price=Decimal(price),
            stock=stock,
        )
    return product


def make_store() -> Store:
    tops, bottoms = _category("Tops"), _category("Bottoms")
    footwear, accessories = _category("Footwear"), _category("Accessories")
    cats = {
        "tops": tops,
        "hoodies": _category("Hoodies & Sweatshirts", tops),
        "tees": _category("T-Shirts", tops),
        "jeans": _category("Jeans", bottoms),
        "running": _category("Running Shoes", footwear),
        "socks": _category("Socks", accessories),
    }
    # Names are chosen so that the plain order (by name) is: Alpha, Basic, Classic, Neon, Road, Wool.
    return Store(
        hoodie=_product(
            "Alpha Hoodie",
            "Aerolite",
            cats["hoodies"],
            ["hoodie", "casual"],
            [("M", "black", "60.00", 5), ("L", "navy", "60.00", 0)],
        ),
        tee=_product(
            "Basic Tee", "Urban Thread", cats["tees"], ["tee", "casual"], [("S", "white", "20.00", 9)]
        ),
        jeans=_product(
            "Classic Jeans", "Denimworks", cats["jeans"], ["denim", "jeans"], [("32", "indigo", "80.00", 4)]
        ),
        neon=_product("Neon Tee", "Stride", cats["tees"], ["tee"], [("M", "neon yellow", "25.00", 7)]),
        shoe=_product(
            "Road Runner",
            "Stride",
            cats["running"],
            ["running", "shoes"],
            [("10.5", "black", "130.00", 3), ("11", "grey", "130.00", 0)],
        ),
        socks=_product(
            "Wool Socks", "Northpeak", cats["socks"], ["socks", "merino"], [("One Size", "grey", "15.00", 20)]
        ),
        categories=cats,
    )
