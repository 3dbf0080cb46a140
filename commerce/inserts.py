"""An INSERT that may find its row taken: ``inserted_unless_taken(instance)``.

Creating a row that another request may have created a moment before (a shopper's one cart, on two
first requests at once) is usually an INSERT in a savepoint, the ``IntegrityError`` caught: three round
trips inside a transaction. On PostgreSQL ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` says the same
in one statement (no row back: a unique constraint already held one), built by Django's own insert
compiler, so the columns and values are the ones ``save()`` would send. Elsewhere (SQLite, whose
``INSERT OR IGNORE`` would also swallow a failed CHECK or NOT NULL) the savepoint way stays, through
``save()``. So model signals are sent on SQLite and not on PostgreSQL (like ``QuerySet.bulk_create``):
use it only for a model that has no ``pre_save``/``post_save`` receiver (``carts.Cart`` has none).
"""

from __future__ import annotations

from django.db import IntegrityError, connections, models, router, transaction
from django.db.models.constants import OnConflict


def inserted_unless_taken(instance: models.Model) -> bool:
    """Inserts the unsaved ``instance`` (its primary key comes back into it) and returns ``True``, or
    returns ``False`` when a unique constraint already holds such a row (``instance`` stays unsaved).
    Inside the caller's transaction, which stays usable either way."""
    model = type(instance)
    using = router.db_for_write(model, instance=instance)
    if connections[using].vendor != "postgresql":
        try:
            with transaction.atomic(using=using):
                instance.save(force_insert=True, using=using)
        except IntegrityError:
            return False
        return True
    meta = model._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    returning = meta.db_returning_fields
    # QuerySet._insert is what Model.save() itself calls; on_conflict is what bulk_create passes it.
    rows = model._base_manager.using(using)._insert(  # type: ignore[attr-defined]
        [instance], fields=fields, returning_fields=returning, using=using, on_conflict=OnConflict.IGNORE
    )
    if not rows or rows[0] is None:
        return False
    for value, field in zip(rows[0], returning, strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding = False
    instance._state.db = using
    return True
