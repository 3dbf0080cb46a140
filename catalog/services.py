"""Writes to the catalog: the importer (CONTRACT.md section 4) and stock adjustment.

Atomicity of an import: every record is validated *before* anything is written, and the writes of
a whole run happen in one transaction. A file with one bad record therefore writes nothing, and
the error names the record (its position, starting at 1, and its first sku) and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Func
from django.utils.text import slugify

from catalog.errors import CatalogRecordInvalid
from catalog.models import Category, Product, Variant
from catalog.selectors import LISTING_VERSION_KEY, listing_cache_version
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
    base = slugify(text)[:200] or "item"
    candidates = [base]
    if qualifier:
        candidates.append(f"{qualifier}-{base}"[:200])
    candidates += [f"{base}-{n}" for n in range(2, 1000)]
    for candidate in candidates:
        taken = model.objects.filter(slug=candidate)
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        if not taken.exists():
            return candidate
    raise InvalidInput(f"Could not find a free slug for {text!r}.")


def _find_product(record: ProductRecord, existing: dict[str, Variant]) -> Product | None:
    owners = {existing[v.sku].product_id for v in record.variants if v.sku in existing}
    if len(owners) > 1:
        raise _fail(
            record.index,
            record.variants[0].sku,
            "variants",
            "holds skus that already belong to different products; split the record.",
        )
    if owners:
        return Product.objects.get(pk=owners.pop())
    if record.slug:
        found = Product.objects.filter(slug=record.slug).first()
        if found is not None:
            return found
    return Product.objects.filter(name__iexact=record.name, brand__iexact=record.brand).first()


def _upsert(record: ProductRecord, categories: dict[tuple[str, ...], Category], result: ImportResult) -> None:
    existing = {v.sku: v for v in Variant.objects.filter(sku__in=[v.sku for v in record.variants])}
    category = _category_for(record.category_path, categories, result)
    product = _find_product(record, existing)
    fields = {
        "name": record.name,
        "brand": record.brand,
        "category": category,
        "description": record.description,
        "tags": list(record.tags),
        "image_url": record.image_url,
        "is_active": True,
    }
    if product is None:
        slug = record.slug or _unique_slug(Product, f"{record.brand} {record.name}")
        product = Product.objects.create(slug=slug, **fields)
        result.products_created += 1
    else:
        if record.slug and record.slug != product.slug:
            fields["slug"] = _unique_slug(Product, record.slug, exclude_pk=product.pk)
        changed = [k for k, value in fields.items() if getattr(product, k) != value]
        if changed:
            for k in changed:
                setattr(product, k, fields[k])
            product.save(update_fields=[*changed, "updated_at"])
            result.products_updated += 1

    to_create, to_update = [], []
    for v in record.variants:
        current = existing.get(v.sku)
        if current is None:
            to_create.append(
                Variant(product=product, sku=v.sku, size=v.size, color=v.color, price=v.price, stock=v.stock)
            )
            continue
        new_values = {"size": v.size, "color": v.color, "price": v.price, "stock": v.stock}
        if any(getattr(current, k) != value for k, value in new_values.items()):
            for k, value in new_values.items():
                setattr(current, k, value)
            to_update.append(current)
        else:
            result.unchanged_variants += 1
    if to_create:
        Variant.objects.bulk_create(to_create)
    if to_update:
        Variant.objects.bulk_update(to_update, ["size", "color", "price", "stock"])
    result.variants_created += len(to_create)
    result.variants_updated += len(to_update)
    result.skus.extend(v.sku for v in record.variants)


def catalog_import(*, records: Iterable[Any], progress: Progress | None = None) -> ImportResult:
    """Creates or updates products, categories and variants from import records, matching on sku.

    A product is found by one of its skus, else by ``slug``, else by name and brand; otherwise it is
    created. Variants missing from a record are kept (carts and orders point at them). Every record
    is validated first; then the whole run is written in one transaction, so bad input writes nothing.
    ``progress(done, total)`` is called after each record is written.
    """
    parsed = [parse_record(raw, index) for index, raw in enumerate(records, start=1)]
    first_seen: dict[str, int] = {}
    for record in parsed:
        for v in record.variants:
            if v.sku in first_seen:
                raise _fail(record.index, v.sku, "variants.sku", f"is also in record {first_seen[v.sku]}.")
            first_seen[v.sku] = record.index

    result = ImportResult(records=len(parsed))
    categories: dict[tuple[str, ...], Category] = {}
    with transaction.atomic():
        for done, record in enumerate(parsed, start=1):
            _upsert(record, categories, result)
            if progress is not None:
                progress(done, len(parsed))
        catalog_listing_changed()  # variants are bulk-written: no model signal for them
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
        return Variant.objects.filter(pk__in=ids).update(stock=_Greatest0(F("stock") + delta))


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
