"""``python -m conversations.tests.nl_eval`` (``make nl-eval``): the evaluation's table, timing and
CLINC150 check (:func:`evaluate.main`) in a process of its own.

Django is set up before the evaluation is imported: the rules' vocabulary reads choices declared on
models (a voice recovery code's alphabet, the reasons a cart is abandoned), which Django refuses to
import unconfigured. Embedded settings do (no database is opened).
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
django.setup()

from conversations.tests.nl_eval.evaluate import main  # noqa: E402 - after django.setup()

main()
