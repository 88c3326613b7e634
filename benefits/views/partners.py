"""What each partner knows about me: one page per partner (its disclosures, the
authorisations past and present, the erasure requests) and the one-tap erasure request."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from benefits import selectors
from benefits.services.erasure import erasure_request_create
from benefits.views.queries import DISCLOSED_LABELS
from sesame_portal.errors import ServiceError


@login_required
@require_GET
def partner_page(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner = selectors.partner_known_to_user(user=request.user, partner_id=partner_id)
    if partner is None:
        raise Http404
    knowledge = selectors.partner_knowledge(user=request.user, partner=partner)
    return render(
        request,
        "benefits/partner.html",
        {
            "knowledge": knowledge,
            "partner": partner,
            "disclosures": [
                {
                    "query": query,
                    "shown": [DISCLOSED_LABELS.get(name, name) for name in query.fields_disclosed],
                }
                for query in knowledge.disclosures
            ],
            "deadline_days": settings.ERASURE_DEADLINE_DAYS,
        },
    )


@login_required
@require_POST
def partner_erasure(request: HttpRequest, partner_id: int) -> HttpResponse:
    """Ask the partner to erase; asking again while one is open changes nothing."""
    try:
        request_, created = erasure_request_create(user=request.user, partner_id=partner_id)
    except ServiceError:  # a partner that knows nothing of the person: as another's page
        raise Http404 from None
    if created:
        messages.success(
            request,
            _("Sent. %(partner)s must erase your data by %(due)s.")
            % {
                "partner": request_.partner.display_name,
                "due": timezone.localtime(request_.due_at).date().isoformat(),
            },
        )
    else:
        messages.info(request, _("You have asked this partner already; it has not answered yet."))
    return redirect("benefits:partner", partner_id=request_.partner_id)
