"""The project's own app config: wiring that belongs to no app (config is listed in
INSTALLED_APPS only for this ready())."""

from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "config"
    label = "config"

    def ready(self) -> None:
        from django.contrib import admin
        from django.contrib.auth.signals import user_logged_in
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from market.web.otp import staff_session_shorten

        user_logged_in.connect(staff_session_shorten, dispatch_uid="staff-session")
        # django-otp's device admin shows secrets and QR codes, and its views carry
        # no permission of their own (tests/web/test_admin_permissions.py): staff
        # enrol themselves at /accounts/otp/setup/ instead.
        if admin.site.is_registered(TOTPDevice):
            admin.site.unregister(TOTPDevice)
