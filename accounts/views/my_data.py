"""My data: download everything held about me, or delete my account."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import selectors, services
from accounts.forms import PasswordConfirmForm
from sesame_portal.errors import ServiceError


def export_response(request: HttpRequest) -> JsonResponse:
    """The export as a JSON file download (shared by the page and the API)."""
    response = JsonResponse(
        selectors.account_export(user=request.user),
        encoder=DjangoJSONEncoder,
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="sesame-portal-my-data-{stamp}.json"'
    return response


@login_required
def my_data_export(request: HttpRequest) -> JsonResponse:
    return export_response(request)


@login_required
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_delete(user=request.user, password=form.cleaned_data["password"])
        except ServiceError as error:
            form.add_error("password", error.message)
        else:
            logout(request)
            messages.success(request, _("Your account has been deleted."))
            return redirect("accounts:login")
    status = 400 if form.errors else 200
    return render(request, "accounts/my_data.html", {"form": form}, status=status)
