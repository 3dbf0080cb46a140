import pytest

from memory.tests.factories import make_store


@pytest.fixture
def store(db):
    return make_store()


@pytest.fixture
def other_user(db):
    from commerce.accounts.tests.factories import UserFactory

    return UserFactory()
