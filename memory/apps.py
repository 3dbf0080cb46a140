from datetime import timedelta

from django.apps import AppConfig, apps


class MemoryConfig(AppConfig):
    name = "memory"
    verbose_name = "Shopper memory"

    def ready(self) -> None:
        self._connect_carts()
        self._connect_orders()
        self._schedule_beat()

    def _connect_carts(self) -> None:
        from django.db.models.signals import post_save

        from memory import receivers

        post_save.connect(
            receivers.on_cart_line_saved, sender="carts.CartLine", dispatch_uid="memory.cart_line_saved"
        )

    def _connect_orders(self) -> None:
        """Purchases come from orders' ``order_placed`` when it exists, else from OrderLine's post_save."""
        from memory import receivers

        try:
            from orders.signals import order_placed
        except ImportError:
            order_placed = None
        if order_placed is not None:
            order_placed.connect(receivers.on_order_placed, dispatch_uid="memory.order_placed")
            return
        try:
            line_model = apps.get_model("orders", "OrderLine")
        except LookupError:
            return
        from django.db.models.signals import post_save

        post_save.connect(
            receivers.on_order_line_saved, sender=line_model, dispatch_uid="memory.order_line_saved"
        )

    def _schedule_beat(self) -> None:
        from commerce.celery import app

        schedule = dict(app.conf.beat_schedule or {})
        schedule["memory-cleanup"] = {
            "task": "memory.cleanup",
            "schedule": timedelta(days=1),
            "options": {"expires": 6 * 3600},
        }
        app.conf.beat_schedule = schedule
