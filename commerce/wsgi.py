import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
application = get_wsgi_application()

from commerce.db import use_web_statement_timeout  # noqa: E402

use_web_statement_timeout()

from commerce.heap import settle_collector  # noqa: E402

# Last, once everything the application needs at startup is loaded (commerce.heap says why).
settle_collector()
