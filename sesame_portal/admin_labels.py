"""Every label the admin shows, in the reader's language.

Django names a field without a verbose name after its attribute ("user", "model
version") and a column method without a description after the method ("Status"): plain
English strings that no catalogue can translate. Some third-party apps (knox, django-celery-
beat) declare plain strings too, and knox and axes name no app. Once every model is
loaded, those names become lazy translations of the same English text, so
locale/zh_Hans/LC_MESSAGES/django.po translates them like ours.

Only labels change. Migrations never see it: a field's deconstruction reads the name it was
declared with (Field._verbose_name), a model's options the Meta it was declared with."""

from __future__ import annotations

from django.apps import apps
from django.contrib.admin import ModelAdmin
from django.contrib.admin.utils import pretty_name
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

APP_NAMES = {"axes": _("Sign-in protection"), "knox": _("API tokens")}
MODEL_NAMES = {("knox", "authtoken"): (_("API token"), _("API tokens"))}


def _lazy(text) -> Promise:
    return text if isinstance(text, Promise) else _(str(text))


def fields_label() -> None:
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields(include_hidden=True):
            if getattr(field, "auto_created", False) and not getattr(field, "concrete", False):
                continue
            if isinstance(getattr(field, "verbose_name", None), str):
                field.verbose_name = _lazy(field.verbose_name)


def apps_label() -> None:
    for label, name in APP_NAMES.items():
        if apps.is_installed(label):
            apps.get_app_config(label).verbose_name = name
    for (app_label, model_name), (singular, plural) in MODEL_NAMES.items():
        if apps.is_installed(app_label):
            options = apps.get_model(app_label, model_name)._meta
            options.verbose_name, options.verbose_name_plural = singular, plural


def columns_label(site) -> None:
    """Column methods of the registered admins that carry no description."""
    for model_admin in site._registry.values():
        for name in model_admin.list_display:
            if not isinstance(name, str):
                continue
            method = getattr(type(model_admin), name, None)
            if (
                callable(method)
                and not hasattr(ModelAdmin, name)
                and not hasattr(method, "short_description")
            ):
                method.short_description = _(pretty_name(name))


def admin_label(site) -> None:
    fields_label()
    apps_label()
    columns_label(site)
