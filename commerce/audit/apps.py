from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "commerce.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from commerce.audit import receivers

        receivers.connect()
