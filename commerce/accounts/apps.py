from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "commerce.accounts"
    label = "accounts"
    verbose_name = "Accounts and shopper sessions"
