from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed

        from accounts import authentication  # noqa: F401  (connects the login failure and success receivers)
        from accounts.roles import user_roles_forget

        m2m_changed.connect(user_roles_forget, sender=get_user_model().groups.through,
                            dispatch_uid="accounts.user_roles_forget")
