"""Each product's summary of its variants (price range, in stock, sizes, colour words), its indexes, and a
search trigger that recomputes the document only when a column it reads changes.

Before this, every UPDATE of a product row (a stock flag included) rebuilt its full-text document.
"""

from django.db import migrations, models

from catalog.migrations._postgres import PostgresOnlySQL

SUMMARY_BATCH = 1000


def fill_summaries(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    Variant = apps.get_model("catalog", "Variant")
    ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), SUMMARY_BATCH):
        chunk = ids[start : start + SUMMARY_BATCH]
        found = {pk: ([], False, set(), set()) for pk in chunk}
        rows = Variant.objects.filter(product_id__in=chunk).values_list("product_id", "price", "stock", "size", "color")
        for product_id, price, stock, size, color in rows:
            prices, stocked, sizes, words = found[product_id]
            prices.append(price)
            if size.strip():
                sizes.add(size.strip().lower())
            words.update(color.lower().split())
            found[product_id] = (prices, stocked or stock > 0, sizes, words)
        products = [
            Product(
                pk=pk,
                price_min=min(prices) if prices else None,
                price_max=max(prices) if prices else None,
                has_stock=stocked,
                sizes=sorted(sizes),
                color_words=sorted(words),
            )
            for pk, (prices, stocked, sizes, words) in found.items()
        ]
        Product.objects.bulk_update(products, ["price_min", "price_max", "has_stock", "sizes", "color_words"])


FORWARD_SQL = r"""
DROP TRIGGER IF EXISTS catalog_product_search_document ON catalog_product;
CREATE TRIGGER catalog_product_search_document
  BEFORE INSERT OR UPDATE OF name, brand, category_id, description, tags, search ON catalog_product
  FOR EACH ROW EXECUTE FUNCTION catalog_product_search_document();
CREATE INDEX catalog_product_sizes_gin ON catalog_product USING gin (sizes jsonb_path_ops);
CREATE INDEX catalog_product_color_words_gin ON catalog_product USING gin (color_words jsonb_path_ops);
"""

REVERSE_SQL = r"""
DROP INDEX IF EXISTS catalog_product_color_words_gin;
DROP INDEX IF EXISTS catalog_product_sizes_gin;
DROP TRIGGER IF EXISTS catalog_product_search_document ON catalog_product;
CREATE TRIGGER catalog_product_search_document
  BEFORE INSERT OR UPDATE ON catalog_product
  FOR EACH ROW EXECUTE FUNCTION catalog_product_search_document();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_search_and_price_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="price_min",
            field=models.DecimalField(decimal_places=2, editable=False, max_digits=10, null=True),
        ),
        migrations.AddField(
            model_name="product",
            name="price_max",
            field=models.DecimalField(decimal_places=2, editable=False, max_digits=10, null=True),
        ),
        migrations.AddField(
            model_name="product",
            name="has_stock",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name="product",
            name="sizes",
            field=models.JSONField(default=list, editable=False),
        ),
        migrations.AddField(
            model_name="product",
            name="color_words",
            field=models.JSONField(default=list, editable=False),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["is_active", "price_min"], name="product_active_price_idx"),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["is_active", "name"], name="product_active_name_idx"),
        ),
        migrations.RunPython(fill_summaries, migrations.RunPython.noop),
        PostgresOnlySQL(FORWARD_SQL, REVERSE_SQL),
    ]
