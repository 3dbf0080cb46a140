from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = "Conversations and support"

    def ready(self) -> None:
        from commerce.accounts.signals import credentials_revoked, shopper_signed_in
        from conversations.services import (
            on_call_summarized,
            on_credentials_revoked,
            on_history_forgotten,
            on_shopper_signed_in,
        )
        from memory.signals import history_forgotten
        from voice.signals import call_summarized

        shopper_signed_in.connect(on_shopper_signed_in, dispatch_uid="conversations.join_on_sign_in")
        history_forgotten.connect(on_history_forgotten, dispatch_uid="conversations.skip_forgotten_history")
        credentials_revoked.connect(on_credentials_revoked, dispatch_uid="conversations.close_sockets")
        call_summarized.connect(on_call_summarized, dispatch_uid="conversations.voice_call_summary")
        # Registers the assistant's and the model's metrics (the breaker gauge) before the first scrape.
        from conversations.assistant import metrics  # noqa: F401
        from conversations.assistant.llm import metrics as llm_metrics  # noqa: F401
