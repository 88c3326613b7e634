"""The score home and its panel: scoring's part (scoring.views.home.score_home) with the
benefit progress beside it (benefits' catalogue, read with the same score)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from benefits.selectors import CatalogueEntry, catalogue_for_user, person_with
from scoring.tasks import score_recompute_queue
from scoring.views.home import ScoreHome, score_home


@dataclass
class PortalHome(ScoreHome):
    court_listed: bool = False
    benefits_unlocked: int = 0
    benefit_next: CatalogueEntry | None = None

    @property
    def onboarding_step(self) -> int:
        """Where the person is on the guided first path (see includes/onboarding_steps.html):
        2 verify, 3 consent, 4 the score."""
        if not self.identity:
            return 2
        return 3 if not self.scoring_allowed else 4


def portal_home(*, user: User) -> PortalHome:
    """Everything the score home shows: scoring's part, then how far the person is from
    the benefits (nothing while on the court list or without a score that may be used)."""
    now = timezone.now()
    home = PortalHome(**vars(score_home(user=user, now=now)))
    snapshot = home.score.snapshot if home.score else None
    # The user as eligibility sees them, from what is read above (see `person_of`).
    person = person_with(user_id=user.pk, snapshot=snapshot)
    home.court_listed = person.court_listed
    if snapshot is not None and not home.court_listed:
        _person, entries = catalogue_for_user(user=user, now=now, person=person)
        locked = [e for e in entries if not e.eligibility.unlocked]
        home.benefits_unlocked = len(entries) - len(locked)
        home.benefit_next = next((e for e in locked if e.eligibility.points_away), None)
    return home


def home(request: HttpRequest) -> HttpResponse:
    """The score home; logged out, what the portal is and where to start."""
    if not request.user.is_authenticated:
        return render(request, "accounts/welcome.html")
    return render(request, "accounts/home.html", {"home": portal_home(user=request.user)})


@login_required
@require_GET
def panel(request: HttpRequest) -> HttpResponse:
    """The score panel alone: htmx polls it while a recompute runs and swaps it in."""
    return render(request, "scoring/_panel.html", {"home": portal_home(user=request.user)})


@login_required
@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    """Ask again after a recompute failed (or whenever the person wants a fresh score)."""
    if score_recompute_queue(user=request.user, trigger="asked"):
        messages.success(request, _("Your score is being computed."))
    else:
        messages.info(request, _("A recompute is already on its way."))
    if request.htmx:
        return render(request, "scoring/_panel.html", {"home": portal_home(user=request.user)})
    return redirect("home")
