import pytest

from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import ShopperSessionFactory


@pytest.fixture
def guest(db) -> Shopper:
    """A guest shopper: an anonymous API session."""
    return Shopper(user=None, session=ShopperSessionFactory())


@pytest.fixture
def member(user) -> Shopper:
    return Shopper(user=user, session=None)
