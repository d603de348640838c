from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "wastelink.accounts"
    label = "accounts"
    verbose_name = "Accounts"
