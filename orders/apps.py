from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from orders.acp import receivers, tasks  # noqa: F401  (tasks: registered with Celery)
        from orders.signals import order_status_changed

        # An agent's order that ships, is delivered, cancelled or refunded: tell the agent platform.
        order_status_changed.connect(receivers.on_order_status_changed, dispatch_uid="orders.acp.order_event")
