from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = "Voice recovery"

    def ready(self) -> None:
        from orders.signals import order_placed
        from voice import (
            metrics,  # noqa: F401  (registers the Prometheus gauges)
            providers,
            receivers,
            tasks,
        )

        # Attribution: an order placed after a completed call marks that call's job recovered.
        order_placed.connect(receivers.on_order_placed, dispatch_uid="voice.attribution.order_placed")
        # The simulator's callback is delivered by a task: wired here so providers know nothing of Celery.
        providers.simulator_callback_scheduler = tasks.simulator_callback_schedule
