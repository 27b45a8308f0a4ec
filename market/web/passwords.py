"""Password pages: a logged-in user changes their password (the old one first, the new
one through AUTH_PASSWORD_VALIDATORS), and a user who forgot it asks for a reset link
by e-mail (sent by EMAIL_URL's backend: the console in the demo). Django's own views,
with our templates; the reset page answers the same whether or not the address is
known, so it tells nobody which addresses have accounts."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("account-settings")

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session logged in
        messages.success(self.request, _("Your password has been changed."))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-sent")


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request, _("Your password has been set. You can log in now.")
        )
        return response
