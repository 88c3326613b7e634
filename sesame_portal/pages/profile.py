"""The profile overview: accounts' sections and how complete they are, with scoring's
word on where each answer comes from and what it does to the score. The step pages
themselves need nothing from scoring and stay in accounts (accounts/views/profile.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import selectors
from accounts.models import ConsentPurpose
from accounts.profile_sections import DECLARED_POINTS_CAP, completion_percent
from scoring.explain import provenance
from scoring.selectors import score_latest


@login_required
def profile_overview(request: HttpRequest) -> HttpResponse:
    profile = selectors.profile_get(user=request.user)
    sections = selectors.profile_sections_status(profile)
    first_open = next((s for s in sections if not s["complete"]), None)
    # Points only while the score may be shown.
    snapshot = (
        score_latest(user=request.user)
        if selectors.consent_allows(user=request.user, purpose=ConsentPurpose.SCORING)
        else None
    )
    return render(
        request,
        "accounts/profile/overview.html",
        {
            "completion": completion_percent(profile),
            "sections": sections,
            "first_open": first_open,
            "sources": provenance.profile_sources(user=request.user, snapshot=snapshot),
            "identity": provenance.identity_source(user=request.user, snapshot=snapshot),
            "categories": provenance.data_categories(user=request.user, snapshot=snapshot),
            "declared_cap": DECLARED_POINTS_CAP,
        },
    )
