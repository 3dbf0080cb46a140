from datetime import timedelta

from django.apps import AppConfig, apps


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = "Voice recovery"

    def ready(self) -> None:
        from voice import metrics  # noqa: F401  (registers the Prometheus gauges)

        self._connect_orders()
        self._schedule_beat()

    def _connect_orders(self) -> None:
        """Attribution listens to orders' ``order_placed`` when it exists, else to Order's post_save."""
        from voice import receivers

        try:
            from orders.signals import order_placed
        except ImportError:
            order_placed = None
        if order_placed is not None:
            order_placed.connect(receivers.on_order_placed, dispatch_uid="voice.attribution.order_placed")
            return
        try:
            order_model = apps.get_model("orders", "Order")
        except LookupError:
            return
        from django.db.models.signals import post_save

        post_save.connect(
            receivers.on_order_saved, sender=order_model, dispatch_uid="voice.attribution.order_saved"
        )

    def _schedule_beat(self) -> None:
        """Beat runs the scan every VOICE_RECOVERY_SCAN_INTERVAL_SECONDS; the task itself checks
        VOICE_RECOVERY_SCHEDULER_ENABLED (environment or admin) so staff can switch it at run time."""
        from commerce.celery import app
        from voice.conf import env_values

        interval = max(5, int(env_values()["VOICE_RECOVERY_SCAN_INTERVAL_SECONDS"]))
        schedule = dict(app.conf.beat_schedule or {})
        schedule["voice-recovery-scan"] = {
            "task": "voice.recovery_scan",
            "schedule": timedelta(seconds=interval),
            # A scan that waited longer than one interval is superseded by the next one.
            "options": {"expires": interval},
        }
        app.conf.beat_schedule = schedule
