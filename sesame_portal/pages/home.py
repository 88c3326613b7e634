"""The score home and its panel: scoring's part (scoring.views.home.score_home, one query
and the snapshot's cached drawings) with the benefit progress beside it (the offered
benefits judged on the same score and identity, one query)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from benefits.selectors import BenefitNext, benefit_progress, person_from
from scoring.tasks import score_recompute_queue
from scoring.views.home import ScoreHome, score_home
from sesame_portal.recent import Recent


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


# Panels this process drew lately, by everything they show (_panel_key): some 12 KB each.
_panels = Recent(300)


def _panel_key(home: PortalHome) -> str | None:
    """Everything the panel shows (every field of the home, the language and the time
    zone), as a key; None when the panel holds the recompute form, whose CSRF token is
    the request's own."""
    if home.score is None or home.status == "failed":
        return None
    shown: list = [translation.get_language(), timezone.get_current_timezone_name()]
    for each in fields(home):
        value = getattr(home, each.name)
        if isinstance(value, BenefitNext):  # the benefit as the panel names it
            benefit = value.benefit
            value = (benefit.pk, benefit.title_zh, benefit.title_en, value.eligibility)
        shown.append((each.name, value))
    return hashlib.sha256(repr(shown).encode()).hexdigest()


def _panel(request: HttpRequest, home: PortalHome) -> SafeString:
    """The panel's HTML: drawn once for what it shows, then this process's copy."""
    key = _panel_key(home)
    drawn = _panels.get(key) if key else None
    if drawn is None:
        drawn = render_to_string("scoring/_panel.html", {"home": home}, request)
        if key:
            _panels.put(key, drawn)
    return mark_safe(drawn)  # noqa: S308 - our own template's output


def home(request: HttpRequest) -> HttpResponse:
    """The score home; logged out, what the portal is and where to start."""
    if not request.user.is_authenticated:
        return render(request, "accounts/welcome.html")
    home = portal_home(user=request.user)
    # The header's count, read with the rest (the context processor would ask again).
    context = {"panel": _panel(request, home), "unread_notifications": home.unread_notifications}
    return render(request, "accounts/home.html", context)


@login_required
@require_GET
def panel(request: HttpRequest) -> HttpResponse:
    """The score panel alone: htmx polls it while a recompute runs and swaps it in."""
    return HttpResponse(_panel(request, portal_home(user=request.user)))


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
