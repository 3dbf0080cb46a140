"""Writes to the catalog: the importer (CONTRACT.md section 4) and stock adjustment.

Atomicity of an import: every record is validated *before* anything is written, and the writes of
a whole run happen in one transaction. A file with one bad record therefore writes nothing, and
the error names the record (its position, starting at 1, and its first sku) and the field.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, F, Func, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify
from psycopg import sql

from catalog.errors import CatalogRecordInvalid
from catalog.models import Category, Product, Variant
from catalog.selectors import LISTING_VERSION_KEY, listing_cache_version
from commerce.db import planner_statistics_refresh
from commerce.errors import InvalidInput

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

CATEGORY_SEPARATOR = ">"
MAX_PRICE = Decimal("99999999.99")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class VariantRecord:
    sku: str
    size: str
    color: str
    price: Decimal
    stock: int


@dataclass(frozen=True)
class ProductRecord:
    index: int
    name: str
    brand: str
    category_path: tuple[str, ...]
    description: str
    tags: tuple[str, ...]
    image_url: str
    slug: str
    variants: tuple[VariantRecord, ...]


@dataclass
class ImportResult:
    records: int = 0
    products_created: int = 0
    products_updated: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    categories_created: int = 0
    unchanged_variants: int = 0
    skus: list[str] = field(default_factory=list)


def _fail(index: int, sku: str | None, field_name: str, problem: str) -> CatalogRecordInvalid:
    where = f"record {index}" + (f" (sku {sku})" if sku else "")
    return CatalogRecordInvalid(
        f"{where}: field '{field_name}' {problem}",
        details={"record": index, "sku": sku, "field": field_name},
    )


def _text(
    raw: Mapping[str, Any], key: str, index: int, sku: str | None, *, required: bool, max_length: int
) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise _fail(index, sku, key, "is required.")
        return ""
    if not isinstance(value, str):
        raise _fail(index, sku, key, "must be a string.")
    value = value.strip()
    if required and not value:
        raise _fail(index, sku, key, "must not be empty.")
    if len(value) > max_length:
        raise _fail(index, sku, key, f"is longer than {max_length} characters.")
    return value


def _price(value: Any, index: int, sku: str, field_name: str) -> Decimal:
    # Strings are the contract's money format; integers are unambiguous too. Floats are refused
    # because 0.1 + 0.2 is not money.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _fail(index, sku, field_name, 'must be a decimal string such as "129.99".')
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise _fail(index, sku, field_name, f"is not a decimal number: {value!r}.") from None
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise _fail(index, sku, field_name, "must be a price between 0 and 99999999.99.")
    exponent = price.as_tuple().exponent  # an int for a finite number
    if isinstance(exponent, int) and exponent < -2:
        raise _fail(index, sku, field_name, "must have at most two decimal places.")
    return price.quantize(Decimal("0.01"))


def _stock(value: Any, index: int, sku: str, field_name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise _fail(index, sku, field_name, "must be a whole number of at least 0.")


def parse_record(raw: Any, index: int) -> ProductRecord:
    """Validates one import record; raises :class:`CatalogRecordInvalid` naming the record and the field."""
    if not isinstance(raw, Mapping):
        raise _fail(index, None, "(record)", "must be a JSON object.")
    variants_raw = raw.get("variants")
    first_sku = None
    if isinstance(variants_raw, list) and variants_raw and isinstance(variants_raw[0], Mapping):
        first_sku = variants_raw[0].get("sku") if isinstance(variants_raw[0].get("sku"), str) else None

    name = _text(raw, "name", index, first_sku, required=True, max_length=200)
    brand = _text(raw, "brand", index, first_sku, required=True, max_length=80)
    category = _text(raw, "category", index, first_sku, required=True, max_length=500)
    path = tuple(part.strip() for part in category.split(CATEGORY_SEPARATOR))
    if any(not part or len(part) > 100 for part in path):
        raise _fail(index, first_sku, "category", 'must be "Name" or "Parent > Child" with non-empty names.')
    if len(path) > 3:
        raise _fail(index, first_sku, "category", "may have at most three levels.")
    description = _text(raw, "description", index, first_sku, required=False, max_length=20_000)
    image_url = _text(raw, "imageUrl", index, first_sku, required=False, max_length=500)
    slug = _text(raw, "slug", index, first_sku, required=False, max_length=220)
    if slug and slug != slugify(slug):
        raise _fail(index, first_sku, "slug", "may hold only lower-case letters, digits and hyphens.")

    tags_raw = raw.get("tags", [])
    if tags_raw is None:
        tags_raw = []
    if not isinstance(tags_raw, list) or not all(isinstance(t, str) for t in tags_raw):
        raise _fail(index, first_sku, "tags", "must be a list of strings.")
    tags = tuple(dict.fromkeys(t.strip().lower() for t in tags_raw if t.strip()))

    if not isinstance(variants_raw, list) or not variants_raw:
        raise _fail(index, first_sku, "variants", "must be a non-empty list.")
    variants = []
    seen: set[str] = set()
    for v_index, v in enumerate(variants_raw):
        prefix = f"variants[{v_index}]"
        if not isinstance(v, Mapping):
            raise _fail(index, first_sku, prefix, "must be a JSON object.")
        sku_value = v.get("sku")
        if not isinstance(sku_value, str) or not sku_value.strip():
            raise _fail(index, first_sku, f"{prefix}.sku", "is required and must be a non-empty string.")
        sku = sku_value.strip()
        if len(sku) > 64:
            raise _fail(index, sku, f"{prefix}.sku", "is longer than 64 characters.")
        if sku in seen:
            raise _fail(index, sku, f"{prefix}.sku", "appears twice in this record.")
        seen.add(sku)
        size = _text(v, "size", index, sku, required=False, max_length=20)
        color = _text(v, "color", index, sku, required=False, max_length=40)
        if "price" not in v:
            raise _fail(index, sku, f"{prefix}.price", "is required.")
        variants.append(
            VariantRecord(
                sku=sku,
                size=size,
                color=color.lower(),
                price=_price(v["price"], index, sku, f"{prefix}.price"),
                stock=_stock(v.get("stock", 0), index, sku, f"{prefix}.stock"),
            )
        )
    return ProductRecord(
        index=index,
        name=name,
        brand=brand,
        category_path=path,
        description=description,
        tags=tags,
        image_url=image_url,
        slug=slug,
        variants=tuple(variants),
    )


def _category_for(
    path: tuple[str, ...], cache: dict[tuple[str, ...], Category], result: ImportResult
) -> Category:
    parent: Category | None = None
    for depth in range(1, len(path) + 1):
        key = tuple(p.lower() for p in path[:depth])
        node = cache.get(key)
        if node is None:
            name = path[depth - 1]
            node = Category.objects.filter(parent=parent, name__iexact=name).first()
            if node is None:
                node = Category.objects.create(
                    name=name, parent=parent, slug=_unique_slug(Category, name, parent.slug if parent else "")
                )
                result.categories_created += 1
            cache[key] = node
        parent = node
    if parent is None:
        raise ValueError("A category path names at least one category.")
    return parent


def _unique_slug(
    model: type[Category] | type[Product], text: str, qualifier: str = "", exclude_pk: int | None = None
) -> str:
    def taken(candidate: str) -> bool:
        rows = model.objects.filter(slug=candidate)
        return bool((rows.exclude(pk=exclude_pk) if exclude_pk is not None else rows).exists())

    return _free_slug(text, taken, qualifier)


def _free_slug(text: str, taken: Callable[[str], bool], qualifier: str = "") -> str:
    """``text`` slugified, else qualified by ``qualifier``, else numbered: the first not ``taken``."""
    base = slugify(text)[:200] or "item"
    qualified = [f"{qualifier}-{base}"[:200]] if qualifier else []
    numbered = (f"{base}-{n}" for n in range(2, 1000))  # made only as far as needed
    for candidate in itertools.chain([base], qualified, numbered):
        if not taken(candidate):
            return candidate
    raise InvalidInput(f"Could not find a free slug for {text!r}.")


# --- the bulk import: plan every record in memory, then write in batches -----------------------------

IMPORT_BATCH = 1000  # records written per batch (and per progress report)
LOOKUP_BATCH = 5000  # values per IN (...) lookup


@dataclass
class _PlannedProduct:
    """A product as the import leaves it: an existing row (``pk``) or one to create (``pk`` None)."""

    product: Product
    first_record: int  # position (0-based) of the first record that names it: it is written in that batch
    is_new: bool
    changed: set[str] = field(default_factory=set)
    summary: _Summary = field(default_factory=lambda: _Summary())
    variants_written: bool = False  # a variant of it is created or changed: its summary is recomputed


@dataclass
class _ImportPlan:
    """Which product each record writes, which variants to create and which to change."""

    products: list[_PlannedProduct] = field(default_factory=list)
    record_product: list[_PlannedProduct] = field(default_factory=list)
    # New variants by the batch of records that names them (record position // IMPORT_BATCH).
    variants_new: dict[int, list[tuple[_PlannedProduct, VariantRecord]]] = field(default_factory=dict)
    variants_changed: list[tuple[int, Variant]] = field(default_factory=list)


def _chunks(values: list[Any], size: int = LOOKUP_BATCH) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _existing_variants(parsed: list[ProductRecord]) -> dict[str, Variant]:
    skus = [v.sku for record in parsed for v in record.variants]
    existing: dict[str, Variant] = {}
    if not Variant.objects.exists():  # the first import of a store: nothing to look up
        return existing
    for chunk in _chunks(skus):
        for variant in Variant.objects.filter(sku__in=chunk).only(
            "id", "sku", "product_id", "size", "color", "price", "stock"
        ):
            existing[variant.sku] = variant
    return existing


class _ProductIndex:
    """Existing products an import may match (by pk, slug, or name and brand) and those it creates, so
    each record finds what the records before it wrote, as a one-record-at-a-time import would."""

    def __init__(self, parsed: list[ProductRecord], existing: dict[str, Variant]) -> None:
        owner_ids = sorted({v.product_id for v in existing.values()})
        slugs = sorted({r.slug for r in parsed if r.slug})
        names = sorted({r.name.lower() for r in parsed})
        found: dict[int, Product] = {}
        for chunk in _chunks(owner_ids):
            found.update((p.pk, p) for p in Product.objects.filter(pk__in=chunk).defer("search"))
        for chunk in _chunks(slugs):
            found.update((p.pk, p) for p in Product.objects.filter(slug__in=chunk).defer("search"))
        for chunk in _chunks(names):
            lowered = Product.objects.annotate(lower_name=Lower("name")).filter(lower_name__in=chunk)
            found.update((p.pk, p) for p in lowered.defer("search"))
        self.planned: dict[int, _PlannedProduct] = {}
        self.by_slug: dict[str, _PlannedProduct] = {}
        self.by_name: dict[tuple[str, str], _PlannedProduct] = {}
        for product in sorted(found.values(), key=lambda p: p.pk):
            self._add(_PlannedProduct(product=product, first_record=-1, is_new=False))
        # Every slug in use, so new ones are chosen without a query each.
        self.slugs_taken = set(Product.objects.values_list("slug", flat=True))

    def _add(self, planned: _PlannedProduct) -> None:
        product = planned.product
        if product.pk is not None:
            self.planned[product.pk] = planned
        self.by_slug.setdefault(product.slug, planned)
        self.by_name.setdefault((product.name.lower(), product.brand.lower()), planned)

    def find(self, record: ProductRecord, owner_ids: set[int]) -> _PlannedProduct | None:
        if owner_ids:
            return self.planned[owner_ids.pop()]
        if record.slug and record.slug in self.by_slug:
            return self.by_slug[record.slug]
        return self.by_name.get((record.name.lower(), record.brand.lower()))

    def create(self, record: ProductRecord, fields: dict[str, Any], position: int) -> _PlannedProduct:
        slug = record.slug or _free_slug(f"{record.brand} {record.name}", self.slugs_taken.__contains__)
        self.slugs_taken.add(slug)
        planned = _PlannedProduct(product=Product(slug=slug, **fields), first_record=position, is_new=True)
        self._add(planned)
        return planned

    def update(self, planned: _PlannedProduct, record: ProductRecord, fields: dict[str, Any]) -> bool:
        product = planned.product
        if record.slug and record.slug != product.slug:
            own = product.slug
            fields["slug"] = _free_slug(record.slug, lambda slug: slug != own and slug in self.slugs_taken)
        changed = [k for k, value in fields.items() if getattr(product, k) != value]
        if not changed:
            return False
        # The old slug, name and brand no longer find this product (as in the database after a save).
        if self.by_slug.get(product.slug) is planned:
            del self.by_slug[product.slug]
        name_key = (product.name.lower(), product.brand.lower())
        if self.by_name.get(name_key) is planned:
            del self.by_name[name_key]
        if "slug" in changed:
            self.slugs_taken.discard(product.slug)
            self.slugs_taken.add(fields["slug"])
        for k in changed:
            setattr(product, k, fields[k])
        planned.changed.update("category" if k == "category_id" else k for k in changed)
        self._add(planned)
        return True


def _plan_import(parsed: list[ProductRecord], result: ImportResult) -> _ImportPlan:
    """Matches every record to a product and its variants, reading only: a record that cannot be
    written (skus of two different products) fails here, before anything is written."""
    existing = _existing_variants(parsed)
    index = _ProductIndex(parsed, existing)
    categories: dict[tuple[str, ...], Category] = {}
    plan = _ImportPlan()
    for position, record in enumerate(parsed):
        owners = {existing[v.sku].product_id for v in record.variants if v.sku in existing}
        if len(owners) > 1:
            raise _fail(
                record.index,
                record.variants[0].sku,
                "variants",
                "holds skus that already belong to different products; split the record.",
            )
        fields = {
            "name": record.name,
            "brand": record.brand,
            "category_id": _category_for(record.category_path, categories, result).pk,
            "description": record.description,
            "tags": list(record.tags),
            "image_url": record.image_url,
            "is_active": True,
        }
        planned = index.find(record, owners)
        if planned is None:
            planned = index.create(record, fields, position)
            plan.products.append(planned)
            result.products_created += 1
        else:
            if planned.first_record == -1:
                planned.first_record = position
                plan.products.append(planned)
            if index.update(planned, record, fields):
                result.products_updated += 1
        plan.record_product.append(planned)
        for v in record.variants:
            current = existing.get(v.sku)
            if current is None:
                plan.variants_new.setdefault(position // IMPORT_BATCH, []).append((planned, v))
                planned.variants_written = True
                planned.summary.add(price=v.price, stock=v.stock, size=v.size, color=v.color)
                result.variants_created += 1
                continue
            new_values = {"size": v.size, "color": v.color, "price": v.price, "stock": v.stock}
            if any(getattr(current, k) != value for k, value in new_values.items()):
                for k, value in new_values.items():
                    setattr(current, k, value)
                plan.variants_changed.append((position, current))
                planned.variants_written = True
                result.variants_updated += 1
            else:
                result.unchanged_variants += 1
        result.skus.extend(v.sku for v in record.variants)
    return plan


def _write_batch(plan: _ImportPlan, first: int, last: int) -> None:
    """Writes what records ``first`` to ``last - 1`` introduced: new products (their summary from the
    import's own variants), changed products, new and changed variants."""
    in_batch = [p for p in plan.products if first <= p.first_record < last]
    new = [p for p in in_batch if p.is_new]
    for planned in new:
        planned.summary.apply_to(planned.product)
    postgres = connection.vendor == "postgresql"
    if postgres:
        # Ids first, then the variants, then their products: the foreign key is checked at commit
        # (Django makes it DEFERRABLE INITIALLY DEFERRED), and each new product's full-text document,
        # built by its insert trigger, then finds its variants' colours at once instead of being built
        # twice (without them, then again when the variants arrive).
        _assign_product_ids([p.product for p in new])
    else:
        Product.objects.bulk_create([p.product for p in new])
    now = timezone.now()
    changed_fields = sorted({f for p in in_batch if not p.is_new for f in p.changed})
    changed = [p.product for p in in_batch if not p.is_new and p.changed]
    if changed:
        for product in changed:
            product.updated_at = now
        Product.objects.bulk_update(changed, [*changed_fields, "updated_at"], batch_size=UPDATE_BATCH)
    _insert_variants(
        [
            (planned.product.pk, v.sku, v.size, v.color, v.price, v.stock)
            for planned, v in plan.variants_new.get(first // IMPORT_BATCH, [])
        ]
    )
    if postgres:
        _copy_products([p.product for p in new])
    updates = [variant for position, variant in plan.variants_changed if first <= position < last]
    if updates:
        Variant.objects.bulk_update(updates, ["size", "color", "price", "stock"], batch_size=UPDATE_BATCH)


VARIANT_COLUMNS = ("product_id", "sku", "size", "color", "price", "stock")


def _assign_product_ids(products: list[Product]) -> None:
    """Primary keys for new products from the table's sequence (PostgreSQL), before they are written."""
    if not products:
        return
    now = timezone.now()
    with connection.cursor() as cursor:
        next_ids = "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"
        cursor.execute(next_ids, [Product._meta.db_table, len(products)])
        for product, (pk,) in zip(products, cursor.fetchall(), strict=True):
            product.pk = product.id = pk
            product.created_at = product.updated_at = now


def _copy_products(products: list[Product]) -> None:
    """New products (ids assigned) with PostgreSQL's COPY, for the same reason as the variants."""
    if not products:
        return
    fields = [f for f in Product._meta.concrete_fields if f.attname != "search"]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(Product._meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for product in products:
            copy.write_row([f.get_db_prep_save(getattr(product, f.attname), connection) for f in fields])


def _insert_variants(rows: list[tuple[int, str, str, str, Decimal, int]]) -> None:
    """New variants in bulk: PostgreSQL's COPY (Django's bulk_create spends longer preparing each field of
    hundreds of thousands of rows than the database takes to store them), bulk_create elsewhere. Both
    fire the database's insert triggers (the search document)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Variant.objects.bulk_create(Variant(**dict(zip(VARIANT_COLUMNS, row, strict=True))) for row in rows)
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(Variant._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, VARIANT_COLUMNS))
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def catalog_import(*, records: Iterable[Any], progress: Progress | None = None) -> ImportResult:
    """Creates or updates products, categories and variants from import records, matching on sku.

    A product is found by one of its skus, else by ``slug``, else by name and brand; otherwise it is
    created. Variants missing from a record are kept (carts and orders point at them). Every record
    is validated and matched first; then the whole run is written in one transaction, in batches of
    bulk statements, so bad input writes nothing. ``progress(done, total)`` is called for each record
    once its batch is written.
    """
    parsed = [parse_record(raw, index) for index, raw in enumerate(records, start=1)]
    first_seen: dict[str, int] = {}
    for record in parsed:
        for v in record.variants:
            if v.sku in first_seen:
                raise _fail(record.index, v.sku, "variants.sku", f"is also in record {first_seen[v.sku]}.")
            first_seen[v.sku] = record.index

    result = ImportResult(records=len(parsed))
    with transaction.atomic():
        plan = _plan_import(parsed, result)
        for first in range(0, len(parsed), IMPORT_BATCH):
            last = min(first + IMPORT_BATCH, len(parsed))
            _write_batch(plan, first, last)
            if progress is not None:
                for done in range(first + 1, last + 1):
                    progress(done, len(parsed))
        # Products that existed may keep variants the file does not name: their summary is recomputed
        # from all their variants when the file wrote any.
        product_summaries_refresh(
            product_ids=[p.product.pk for p in plan.products if not p.is_new and p.variants_written]
        )
        catalog_listing_changed()  # bulk writes send no model signal
        written = {
            Product: result.products_created + result.products_updated,
            Variant: result.variants_created + result.variants_updated,
            Category: result.categories_created,
        }
        # Planned for the catalog's new size from the first query on (measured on a fresh 154-product
        # store without it: a cart's lines read by a scan of every variant, 0.4 ms, instead of 0.03 ms).
        transaction.on_commit(lambda: planner_statistics_refresh(written=written))
    return result


class _Greatest0(Func):
    """``MAX(x, 0)`` on SQLite, ``GREATEST(x, 0)`` elsewhere: stock never goes below zero."""

    function = "GREATEST"
    arity = 1
    template = "GREATEST(%(expressions)s, 0)"

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        return super().as_sql(compiler, connection, template="MAX(%(expressions)s, 0)", **extra_context)


def variant_adjust_stock(*, variant_ids: Iterable[int], delta: int) -> int:
    """Adds ``delta`` (may be negative) to the stock of each variant, clamped at zero.

    One conditional UPDATE, so it composes with concurrent checkouts that take stock the same way.
    Returns the number of variants changed.
    """
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise InvalidInput("The stock change must be a whole number.", details={"field": "delta"})
    ids = list(variant_ids)
    if not ids or delta == 0:
        return 0
    with transaction.atomic():
        changed = Variant.objects.filter(pk__in=ids).update(stock=_Greatest0(F("stock") + delta))
        products = Variant.objects.filter(pk__in=ids).values_list("product_id", flat=True)
        product_stock_refresh(product_ids=products)
    return changed


# --- the per-product summary of its variants (Product.price_min ... color_words) ----------------------

SUMMARY_FIELDS = ["price_min", "price_max", "has_stock", "sizes", "color_words"]
SUMMARY_BATCH = 1000
# bulk_update writes one CASE per column with a branch per row: its cost grows with the square of the
# batch, so updates go in small batches.
UPDATE_BATCH = 100


@dataclass
class _Summary:
    prices: list[Decimal] = field(default_factory=list)
    has_stock: bool = False
    sizes: set[str] = field(default_factory=set)
    color_words: set[str] = field(default_factory=set)

    def add(self, *, price: Decimal, stock: int, size: str, color: str) -> None:
        self.prices.append(price)
        self.has_stock = self.has_stock or stock > 0
        if size.strip():
            self.sizes.add(size.strip().lower())
        self.color_words.update(color.lower().split())

    def apply_to(self, product: Product) -> None:
        product.price_min = min(self.prices) if self.prices else None
        product.price_max = max(self.prices) if self.prices else None
        product.has_stock = self.has_stock
        product.sizes = sorted(self.sizes)
        product.color_words = sorted(self.color_words)


def product_summaries_refresh(*, product_ids: Iterable[int]) -> None:
    """Recomputes the variant summary of each product (lowest and highest price, whether any variant is
    in stock, its sizes and colour words) from its variants: after any write of variants' prices, sizes,
    colours or membership. A batch of products costs two queries."""
    ids = sorted(set(product_ids))
    for start in range(0, len(ids), SUMMARY_BATCH):
        chunk = ids[start : start + SUMMARY_BATCH]
        summaries = {pk: _Summary() for pk in chunk}
        rows = (
            Variant.objects.filter(product_id__in=chunk)
            .order_by()
            .values_list("product_id", "price", "stock", "size", "color")
        )
        for product_id, price, stock, size, color in rows:
            summaries[product_id].add(price=price, stock=stock, size=size, color=color)
        products = []
        for pk, summary in summaries.items():
            product = Product(pk=pk)
            summary.apply_to(product)
            products.append(product)
        Product.objects.bulk_update(products, SUMMARY_FIELDS, batch_size=UPDATE_BATCH)


def product_stock_refresh(*, product_ids: Iterable[int]) -> None:
    """After a variant of each product sold out or came back: sets ``has_stock`` from its variants'
    stock (writing only the rows that change) and bumps the listing version, since "in stock" searches
    (cached under it) now find other products.

    The products are locked first, in pk order: two checkouts selling the last units of different
    variants of one product then refresh one after the other, and the second sees the first's sale."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    stocked = Exists(Variant.objects.filter(product=OuterRef("pk"), stock__gt=0))
    with transaction.atomic():
        list(Product.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
        Product.objects.filter(pk__in=ids).exclude(has_stock=stocked).update(has_stock=stocked)
        catalog_listing_changed()


def product_stock_after_sale(*, variant_ids: Iterable[int]) -> None:
    """After stock was taken from ``variant_ids``: refreshes ``has_stock`` of the products one of whose
    variants just sold out (one cheap query when none did, the common case)."""
    emptied = Variant.objects.filter(pk__in=list(variant_ids), stock=0).values_list("product_id", flat=True)
    product_stock_refresh(product_ids=emptied)


def variant_summary_changed(*, instance: Variant, **_signal_kwargs: Any) -> None:
    """Variant's post_save/post_delete receiver: one variant written through the model (the admin, the
    shell, factories) refreshes its product's summary."""
    product_summaries_refresh(product_ids=[instance.product_id])


def catalog_listing_changed(**_signal_kwargs: Any) -> None:
    """Invalidates the cached facets and category tree (a new version; old keys expire on their own).

    Bumped at once and again after commit: at once so this very request reads fresh values, after
    commit so a page rendered meanwhile from the old rows cannot keep them cached under the new version.
    """
    _bump_listing_version()
    transaction.on_commit(_bump_listing_version)


def _bump_listing_version() -> None:
    try:
        cache.incr(LISTING_VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value invalidates
        cache.set(LISTING_VERSION_KEY, listing_cache_version() + 1, None)
