"""Score pages: what-if (the score home itself is accounts' home page)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from scoring import selectors, services
from scoring.forms import WhatIfForm
from sesame_portal.errors import ServiceError


@login_required
@require_http_methods(["GET", "POST"])
def what_if(request: HttpRequest) -> HttpResponse:
    form = WhatIfForm(request.POST if request.method == "POST" else None)
    result, error = None, None
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            error = _("Choose at least one change to try.")
        else:
            try:
                result = services.score_what_if(user=request.user, changes=changes)
            except ServiceError as exc:
                error = exc.message
    context = {
        "form": form,
        "result": result,
        "error": error,
        "snapshot": selectors.score_latest(user=request.user),
    }
    template = "scoring/_what_if_result.html" if request.htmx else "scoring/what_if.html"
    return render(request, template, context)
