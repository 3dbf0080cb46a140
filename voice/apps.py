from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = "Voice recovery"

    def ready(self) -> None:
        from orders.signals import order_placed
        from voice import (
            metrics,  # noqa: F401  (registers the Prometheus gauges)
            receivers,
        )

        # Attribution: an order placed after a completed call marks that call's job recovered.
        order_placed.connect(receivers.on_order_placed, dispatch_uid="voice.attribution.order_placed")
