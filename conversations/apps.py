from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = "Conversations and support"

    def ready(self) -> None:
        from commerce.accounts.signals import shopper_signed_in
        from conversations.services import on_shopper_signed_in

        shopper_signed_in.connect(on_shopper_signed_in, dispatch_uid="conversations.join_on_sign_in")
