"""Who checked my score: every partner query and proof opening, with what was disclosed."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from benefits import selectors
from benefits.models import (
    DISCLOSED_LABELS,
    PartnerDecision,
    PartnerQuery,
)
from benefits.selectors_receipts import disputes_open_for_user, receipts_by_query
from scoring.services.proofs import proof_openings_for_user


@login_required
@require_GET
def queries(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.queries_for_user(user=request.user))
    # The decision a partner reported about a query, beside it (one read for the page).
    receipts = receipts_by_query(user=request.user, query_ids=[query.pk for query in rows])
    return render(
        request,
        "benefits/queries.html",
        {
            "disputes_open": disputes_open_for_user(user=request.user) if receipts else [],
            "queries": [
                {
                    "query": query,
                    "shown": [DISCLOSED_LABELS.get(name, name) for name in query.fields_disclosed],
                    "why": OUTCOME_LABELS.get(query.outcome, query.outcome),
                    "answered": _answered(query),
                    "decision": _decision(query),
                    "receipt": receipts.get(query.pk),
                }
                for query in rows
            ],
            # Each partner that knows something about the person, to its own page.
            "partners": selectors.partners_for_user(user=request.user),
            # Openings of the person's shareable proofs are checks of their score too.
            "openings": proof_openings_for_user(user=request.user),
        },
    )


def _answered(query) -> str:
    """What an answered identity check said (a match or not), for the person."""
    if query.kind != PartnerQuery.Kind.IDENTITY_CHECK or query.outcome != "ok":
        return ""
    if query.detail.get("match"):
        return _("The name and ID number matched yours.")
    return _("The name and ID number did not match yours.")


def _decision(query) -> dict | None:
    """A decision the partner reported: its label, reason code and limit."""
    if query.kind != PartnerQuery.Kind.DECISION or query.outcome != "ok":
        return None
    value = query.detail.get("decision", "")
    label = PartnerDecision(value).label if value in PartnerDecision.values else value
    return {
        "label": label,
        "reason_code": query.detail.get("reason_code", ""),
        "limit": query.detail.get("limit"),
    }


OUTCOME_LABELS = {
    "ok": gettext_lazy("Answered"),
    "out_of_scope": gettext_lazy("Refused: outside what you allowed"),
    "authorization_revoked": gettext_lazy("Refused: you revoked the authorisation"),
    "authorization_replaced": gettext_lazy("Refused: replaced by a newer authorisation"),
    "authorization_used": gettext_lazy("Refused: the authorisation was used up"),
    "identity_check_limit": gettext_lazy("Refused: too many identity checks today"),
    "identity_check_stopped": gettext_lazy(
        "Refused: identity checks stopped after repeated mismatches"
    ),
    "authorization_expired": gettext_lazy("Refused: the authorisation had expired"),
    "score_unavailable": gettext_lazy("Refused: no score to share"),
    "benefit_not_found": gettext_lazy("Refused: no such benefit"),
    "rate_limited": gettext_lazy("Refused: too many calls"),
    "quota_exhausted": gettext_lazy("Refused: too many calls"),
}
