from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "commerce.accounts"
    label = "accounts"
    verbose_name = "Accounts and shopper sessions"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from commerce.accounts.throttle import lockout_recorded

        user_locked_out.connect(lockout_recorded, dispatch_uid="accounts.lockout_recorded")
