"""Catalog reads on a read replica (DATABASE_REPLICA_URL): tested with a second connection to the same
PostgreSQL test database standing in for the replica."""

from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from carts.services import cart_add_item
from catalog.models import Product
from catalog.tests.factories import VariantFactory
from commerce.accounts.models import User
from commerce.accounts.shoppers import Shopper
from commerce.db_router import REPLICA, CatalogReplicaRouter
from orders.services import order_place
from orders.tests.conftest import ADDRESS, PAY_OK

# The fixture overrides DATABASES on purpose (the router reads it); Django warns about any such override.
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@pytest.fixture
def replica(settings):
    """The replica as DATABASE_REPLICA_URL configures it, here a second connection to the test database
    itself (so it sees what the primary committed). The connection is made while its alias is
    configured and the alias then removed from the handler's settings: Django's test case allows such
    a dynamically created connection, as it would not an alias it did not set up."""
    settings_dict = dict(connections["default"].settings_dict)
    settings.DATABASES = {**settings.DATABASES, REPLICA: settings_dict}
    connections.settings[REPLICA] = settings_dict
    connection = connections[REPLICA]
    del connections.settings[REPLICA]
    try:
        yield connection
    finally:
        connection.close()
        del connections[REPLICA]


def test_without_a_replica_everything_reads_the_primary():
    assert CatalogReplicaRouter().db_for_read(Product) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_catalog_reads_go_to_the_replica_and_the_rest_to_the_primary(replica, client):
    variant = VariantFactory(product__name="Replica Hoodie", price=Decimal("40.00"))
    with CaptureQueriesContext(replica) as on_replica:
        assert client.get("/api/v1/products", {"query": "hoodie"}).json()["total"] == 1
        assert client.get(f"/products/{variant.product_id}/").status_code == 200
        assert list(User.objects.all()) == []
    read = " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "catalog_product" in read and "catalog_variant" in read
    assert "accounts_user" not in read  # other apps read the primary


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reads_inside_a_transaction_and_writes_stay_on_the_primary(replica, user):
    variant = VariantFactory(price=Decimal("25.00"), stock=1)
    with CaptureQueriesContext(replica) as on_replica:
        with transaction.atomic():
            assert Product.objects.filter(pk=variant.product_id).exists()
        Product.objects.filter(pk=variant.product_id).update(name="Renamed")
        # Checkout locks variant and product rows: it must never read them from the replica.
        cart_add_item(shopper=Shopper(user=user, session=None), variant_id=variant.pk, quantity=1)
        order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK)
    assert not [q for q in on_replica.captured_queries if "FOR UPDATE" in q["sql"] or "UPDATE" in q["sql"]]
    assert Product.objects.values_list("has_stock", flat=True).get(pk=variant.product_id) is False
