"""Search support: the ``search`` document, its triggers, a GIN index and a trigram index.

The PostgreSQL-only parts (pg_trgm, triggers, GIN indexes) run through :class:`PostgresOnlySQL`, which
does nothing on another database, so the embedded SQLite run migrates the same history.
"""

import django.contrib.postgres.search
from django.db import migrations, models

from catalog.migrations._postgres import PostgresOnlySQL

# One trigger computes the document from the product row, its category path and its variants'
# colours; triggers on variants and categories touch the product so the document follows them.
# Being triggers, they hold for every write path: services, admin, factories, bulk_create, raw SQL.
FORWARD_SQL = r"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE OR REPLACE FUNCTION catalog_product_search_document() RETURNS trigger AS $$
DECLARE
  category_names text;
  tag_text text;
  colour_text text;
BEGIN
  SELECT concat_ws(' ', c.name, p.name, g.name) INTO category_names
    FROM catalog_category c
    LEFT JOIN catalog_category p ON p.id = c.parent_id
    LEFT JOIN catalog_category g ON g.id = p.parent_id
   WHERE c.id = NEW.category_id;
  SELECT coalesce(string_agg(t, ' '), '') INTO tag_text
    FROM jsonb_array_elements_text(
      CASE WHEN jsonb_typeof(NEW.tags) = 'array' THEN NEW.tags ELSE '[]'::jsonb END) AS t;
  SELECT coalesce(string_agg(DISTINCT v.color, ' '), '') INTO colour_text
    FROM catalog_variant v WHERE v.product_id = NEW.id;
  NEW.search :=
       setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A')
    || setweight(to_tsvector('english',
         coalesce(NEW.brand, '') || ' ' || coalesce(category_names, '') || ' ' || tag_text), 'B')
    || setweight(to_tsvector('english', coalesce(NEW.description, '') || ' ' || colour_text), 'C');
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER catalog_product_search_document
  BEFORE INSERT OR UPDATE ON catalog_product
  FOR EACH ROW EXECUTE FUNCTION catalog_product_search_document();

-- Statement-level triggers: a bulk insert of 20 variants touches their product once, not 20 times.
CREATE OR REPLACE FUNCTION catalog_variant_touch_new_products() RETURNS trigger AS $$
BEGIN
  UPDATE catalog_product SET search = NULL
   WHERE id IN (SELECT DISTINCT product_id FROM variant_rows);
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER catalog_variant_inserted
  AFTER INSERT ON catalog_variant REFERENCING NEW TABLE AS variant_rows
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_variant_touch_new_products();

CREATE TRIGGER catalog_variant_deleted
  AFTER DELETE ON catalog_variant REFERENCING OLD TABLE AS variant_rows
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_variant_touch_new_products();

-- Row-level with a WHEN clause: stock updates (every checkout) never touch the product row.
CREATE OR REPLACE FUNCTION catalog_variant_touch_product() RETURNS trigger AS $$
BEGIN
  UPDATE catalog_product SET search = NULL WHERE id IN (OLD.product_id, NEW.product_id);
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER catalog_variant_colour_changed
  AFTER UPDATE OF color, product_id ON catalog_variant
  FOR EACH ROW
  WHEN (OLD.color IS DISTINCT FROM NEW.color OR OLD.product_id IS DISTINCT FROM NEW.product_id)
  EXECUTE FUNCTION catalog_variant_touch_product();

CREATE OR REPLACE FUNCTION catalog_category_touch_products() RETURNS trigger AS $$
BEGIN
  UPDATE catalog_product SET search = NULL
   WHERE category_id IN (
     SELECT c.id FROM catalog_category c
       LEFT JOIN catalog_category p ON p.id = c.parent_id
      WHERE c.id = NEW.id OR c.parent_id = NEW.id OR p.parent_id = NEW.id);
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER catalog_category_renamed
  AFTER UPDATE OF name, parent_id ON catalog_category
  FOR EACH ROW
  WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.parent_id IS DISTINCT FROM NEW.parent_id)
  EXECUTE FUNCTION catalog_category_touch_products();

CREATE INDEX catalog_product_search_gin ON catalog_product USING gin (search);
CREATE INDEX catalog_product_name_trgm ON catalog_product USING gin (name gin_trgm_ops);

-- Fill the document for rows that existed before this migration.
UPDATE catalog_product SET search = NULL;
"""

REVERSE_SQL = r"""
DROP INDEX IF EXISTS catalog_product_name_trgm;
DROP INDEX IF EXISTS catalog_product_search_gin;
DROP TRIGGER IF EXISTS catalog_category_renamed ON catalog_category;
DROP TRIGGER IF EXISTS catalog_variant_colour_changed ON catalog_variant;
DROP TRIGGER IF EXISTS catalog_variant_deleted ON catalog_variant;
DROP TRIGGER IF EXISTS catalog_variant_inserted ON catalog_variant;
DROP TRIGGER IF EXISTS catalog_product_search_document ON catalog_product;
DROP FUNCTION IF EXISTS catalog_category_touch_products();
DROP FUNCTION IF EXISTS catalog_variant_touch_product();
DROP FUNCTION IF EXISTS catalog_variant_touch_new_products();
DROP FUNCTION IF EXISTS catalog_product_search_document();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="search",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="variant",
            index=models.Index(fields=["product", "price"], name="variant_product_price_idx"),
        ),
        PostgresOnlySQL(FORWARD_SQL, REVERSE_SQL),
    ]
