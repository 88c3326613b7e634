"""Django's password rules with the portal's own words: Django's zh-Hans catalogue says
你 (and leaves the length rule untranslated), the portal says 您. The rules themselves
are Django's, unchanged; settings.AUTH_PASSWORD_VALIDATORS names these."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short: it needs at least %(min_length)d character.",
            "This password is too short: it needs at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return ngettext(
            "Your password needs at least %(min_length)d character.",
            "Your password needs at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
    def get_error_message(self) -> str:
        return _("This password is too similar to your %(verbose_name)s.")

    def get_help_text(self) -> str:
        return _("Your password must not resemble your username or other personal details.")


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    def get_error_message(self) -> str:
        return _("This password is too common.")

    def get_help_text(self) -> str:
        return _("Your password must not be a commonly used one.")


class NumericPasswordValidator(password_validation.NumericPasswordValidator):
    def get_error_message(self) -> str:
        return _("This password is only digits.")

    def get_help_text(self) -> str:
        return _("Your password must not be only digits.")
