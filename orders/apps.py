from datetime import timedelta

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from commerce.celery import app

        # Expired idempotency keys are ignored on use anyway; this only keeps the table small.
        schedule = dict(app.conf.beat_schedule or {})
        schedule["orders-purge-idempotency-records"] = {
            "task": "orders.purge_idempotency_records",
            "schedule": timedelta(hours=1),
            "options": {"expires": 30 * 60},
        }
        app.conf.beat_schedule = schedule
