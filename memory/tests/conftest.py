import pytest

from memory.tests.factories import make_store


@pytest.fixture
def store(db):
    return make_store()


@pytest.fixture
def other_user(db):
    from commerce.accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture(autouse=True)
def _eager_tasks(settings):
    """Memory tasks run in-process, as in the embedded run, also in the Redis pass."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
