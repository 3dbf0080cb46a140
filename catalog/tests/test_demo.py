"""The committed demo catalog is what the generator writes, and it looks like a real store."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from catalog.demo.generate import DEFAULT_OUT, build_catalog, write_catalog
from catalog.models import Category, Product, Variant
from catalog.selectors import product_search
from catalog.services import catalog_import, parse_record

DEMO = json.loads(Path(DEFAULT_OUT).read_text(encoding="utf-8"))


def test_committed_file_is_exactly_what_the_generator_writes(tmp_path):
    out = tmp_path / "demo.json"
    write_catalog(build_catalog(), out)
    assert out.read_text(encoding="utf-8") == Path(DEFAULT_OUT).read_text(encoding="utf-8")


def test_demo_is_big_and_varied_enough():
    categories = {p["category"] for p in DEMO}
    brands = {p["brand"] for p in DEMO}
    assert len(DEMO) >= 150 and len(categories) >= 10 and len(brands) >= 5
    for wanted in ("Running Shoes", "Hoodies", "Jeans", "T-Shirts", "Jackets", "Backpacks", "Socks"):
        assert any(wanted in c for c in categories), wanted


def test_every_demo_record_is_valid_with_unique_skus():
    skus = [v["sku"] for p in DEMO for v in p["variants"]]
    assert len(skus) == len(set(skus))
    for index, raw in enumerate(DEMO, start=1):
        parse_record(raw, index)


def test_demo_sizes_colours_prices_and_stock_look_real():
    def sizes(kind):
        return {v["size"] for p in DEMO if kind in p["category"] for v in p["variants"]}

    assert {"7", "10", "10.5", "13"} <= sizes("Running Shoes")
    assert {"XS", "M", "XXL"} <= sizes("T-Shirts")
    assert {"28", "32", "38"} <= sizes("Jeans")
    assert sizes("Backpacks") == {"One Size"}
    for p in DEMO:
        assert 2 <= len({v["color"] for v in p["variants"]}) <= 4
        assert all(isinstance(v["price"], str) and Decimal(v["price"]) > 0 for v in p["variants"])
    running = [Decimal(p["variants"][0]["price"]) for p in DEMO if p["name"].endswith(" Running Shoes")]
    assert min(running) >= Decimal("89.99") and sum(price < 150 for price in running) >= 5
    stocks = [v["stock"] for p in DEMO for v in p["variants"]]
    assert 0 in stocks and any(1 <= s <= 5 for s in stocks)
    assert any(all(v["stock"] == 0 for v in p["variants"]) for p in DEMO)  # a sold-out product


@pytest.mark.django_db
def test_demo_loads_and_running_shoes_are_found():
    catalog_import(records=DEMO[:40])
    assert Category.objects.count() >= 4 and Product.objects.count() == 40
    assert Variant.objects.count() == sum(len(p["variants"]) for p in DEMO[:40])
    found = [p.name for p in product_search(query="running shoes")[:5]]
    assert found and all("Running Shoes" in name for name in found)
