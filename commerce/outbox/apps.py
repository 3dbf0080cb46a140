from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "commerce.outbox"
    label = "outbox"
    verbose_name = "Task outbox"

    def ready(self) -> None:
        from commerce.outbox import metrics  # noqa: F401 - registers the scrape-time gauge
