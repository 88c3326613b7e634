"""The score home and its panel: scoring's part (scoring.views.home.score_home, one query
and the snapshot's cached drawings) with the benefit progress beside it (the offered
benefits judged on the same score and identity, one query)."""

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
from benefits.selectors import BenefitNext, benefit_progress, person_from
from scoring.tasks import score_recompute_queue
from scoring.views.home import ScoreHome, score_home


@dataclass
class PortalHome(ScoreHome):
    benefits_unlocked: int = 0
    benefit_next: BenefitNext | None = None

    @property
    def onboarding_step(self) -> int:
        """Where the person is on the guided first path (see includes/onboarding_steps.html):
        2 verify, 3 consent, 4 the score."""
        if not self.verified:
            return 2
        return 3 if not self.scoring_allowed else 4


def portal_home(*, user: User) -> PortalHome:
    """Everything the score home shows: scoring's part, then how far the person is from
    the benefits (nothing while on the court list or without a score that may be used)."""
    now = timezone.now()
    home = PortalHome(**vars(score_home(user=user, now=now)))
    if home.score is not None and not home.court_listed:
        # The user as eligibility sees them (see `person_of`), from what was read above.
        person = person_from(
            user_id=user.pk,
            score=home.score.score,
            dimensions=home.score.dimensions,
            birth_date_encrypted=home.birth_date_encrypted,
            region_code=home.region_code,
            court_listed=home.court_listed,
        )
        progress = benefit_progress(person=person, now=now)
        home.benefits_unlocked, home.benefit_next = progress.unlocked, progress.next
    return home


def _page(request: HttpRequest, template: str) -> HttpResponse:
    home = portal_home(user=request.user)
    # The header's count, read with the rest (the context processor would ask again).
    context = {"home": home, "unread_notifications": home.unread_notifications}
    return render(request, template, context)


def home(request: HttpRequest) -> HttpResponse:
    """The score home; logged out, what the portal is and where to start."""
    if not request.user.is_authenticated:
        return render(request, "accounts/welcome.html")
    return _page(request, "accounts/home.html")


@login_required
@require_GET
def panel(request: HttpRequest) -> HttpResponse:
    """The score panel alone: htmx polls it while a recompute runs and swaps it in."""
    return _page(request, "scoring/_panel.html")


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
