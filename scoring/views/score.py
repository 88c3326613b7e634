"""Score pages: the history, what-if and how scores work. The score home, its panel
(polled by htmx while a recompute runs) and asking again after a failed recompute are
assembled at the top, in sesame_portal/pages/home.py, as they show benefits too."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import ConsentPurpose
from accounts.selectors import consent_allows, profile_get
from scoring import charts, selectors
from scoring.explain.changes import changes_explain
from scoring.forms import WhatIfForm
from scoring.ml.bands import BANDS
from scoring.ml.facts import model_public_facts
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from scoring.models import ScoreSnapshot
from scoring.services import scores as services
from sesame_portal.errors import ServiceError

HISTORY_PAGE_LIMIT = 120


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    """Every score with its change; `?at=<id>` (a tapped point) explains that one."""
    allowed = consent_allows(user=request.user, purpose=ConsentPurpose.SCORING)
    rows = (
        list(selectors.score_history(user=request.user, limit=HISTORY_PAGE_LIMIT))
        if allowed
        else []
    )
    explained = changes_explain(rows)
    wanted = request.GET.get("at", "")
    selected = rows[0] if rows else None
    # isdecimal, not isdigit: int() refuses superscripts such as "²" and overlong numbers.
    if wanted.isdecimal() and len(wanted) < 19:
        selected = next((row for row in rows if row.pk == int(wanted)), selected)
    return render(
        request,
        "scoring/history.html",
        {
            "allowed": allowed,
            "chart": charts.history([(row.computed_at, row.score, row.pk) for row in rows]),
            "rows": [(row, explained.get(row.pk)) for row in rows],
            "selected": selected,
            "change": explained.get(selected.pk) if selected else None,
        },
    )


@require_GET
def how_it_works(request: HttpRequest) -> HttpResponse:
    """Public: what each dimension uses and never uses, how often scores change, and the
    current model's headline figures, fairness gaps included."""
    return render(
        request,
        "scoring/how_it_works.html",
        {
            "facts": model_public_facts(),
            "score_min": SCORE_MIN,
            "score_max": SCORE_MAX,
            "bands": {name: (low, high) for name, low, high in BANDS},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def what_if(request: HttpRequest) -> HttpResponse:
    """Only the levers that apply to the person; the result says the band it lands in
    and what each change would do alone, in points."""
    levers = services.what_if_levers_for(
        facts=selectors.record_facts(user=request.user, today=timezone.localdate()),
        profile=profile_get(user=request.user),
    )
    form = WhatIfForm(request.POST if request.method == "POST" else None, levers=levers)
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
            else:
                result["band_label"] = ScoreSnapshot.Band(result["band"]).label
                result["lever_rows"] = [
                    (form.fields[row["lever"]].label, row["points"]) for row in result["levers"]
                ]
    context = {
        "form": form,
        "result": result,
        "error": error,
        "snapshot": selectors.score_latest(user=request.user),
    }
    template = "scoring/_what_if_result.html" if request.htmx else "scoring/what_if.html"
    return render(request, template, context)
