"""The consents page: accounts' purposes (scoring and the data categories) beside the
person's authorisations of partners (benefits' partner form and terms), with the ledger
of both. Revoking is accounts' alone; granting partner sharing is benefits'."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.clients import client_from_request
from accounts.models import DATA_CATEGORY_PURPOSES, ConsentGrant, ConsentPurpose
from benefits.forms import PartnerConsentForm
from benefits.selectors import consent_grants_with_partners
from benefits.services.partner_access import partner_authorize
from benefits.views import authorized_redirect
from sesame_portal.errors import ServiceError

# Which form field a service error code belongs to; the rest are shown above the form.
_PARTNER_FIELDS = {
    "partner": "partner",
    "partner_not_approved": "partner",
    "scope": "scope",
    "benefit": "benefit",
    "expires_at": "expires_on",
    "use_limit": "use_limit",
    "max_queries": "max_queries",
}


def _first_path(grants: list[ConsentGrant]) -> bool:
    """Never consented to scoring yet: the person is on the guided first path."""
    return not any(grant.purpose == ConsentPurpose.SCORING for grant in grants)


def _consent_page_context(request: HttpRequest, partner_form: PartnerConsentForm | None = None):
    grants = list(consent_grants_with_partners(user=request.user))
    current_purposes = {g.purpose for g in grants if g.is_current()}
    texts = selectors.consent_texts_current()
    # The guided first path asks only for the consent scoring needs; the data categories
    # and partner sharing are offered once it is given (and where they matter), or on ask.
    first_path = _first_path(grants) and request.GET.get("all") != "1"
    offers = [
        texts[purpose]
        for purpose in (
            (ConsentPurpose.SCORING,)
            if first_path
            else (ConsentPurpose.SCORING, *DATA_CATEGORY_PURPOSES)
        )
        if purpose in texts and purpose not in current_purposes
    ]
    return {
        "first_path": first_path,
        "current_grants": [g for g in grants if g.is_current()],
        "past_grants": [g for g in grants if not g.is_current()],
        "offers": offers,
        "partner_text": None if first_path else texts.get(ConsentPurpose.PARTNER_SHARING),
        "partner_form": partner_form or PartnerConsentForm(),
    }


@login_required
def consents(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/consents.html", _consent_page_context(request))


@login_required
@require_POST
def consent_grant(request: HttpRequest) -> HttpResponse:
    purpose = request.POST.get("purpose", "")
    client = client_from_request(request, channel=ConsentGrant.Channel.WEB)
    partner_form = None
    first_path = False
    try:
        if purpose == ConsentPurpose.PARTNER_SHARING:
            partner_form = PartnerConsentForm(request.POST)
            if not partner_form.is_valid():
                return render(
                    request,
                    "accounts/consents.html",
                    _consent_page_context(request, partner_form),
                    status=400,
                )
            grant, token = partner_authorize(
                user=request.user,
                client=client,
                partner=partner_form.cleaned_data["partner"],
                scope=partner_form.cleaned_data["scope"],
                benefit=partner_form.cleaned_data["benefit"],
                stated_purpose=partner_form.cleaned_data["stated_purpose"],
                expires_at=partner_form.expires_at(),
                identity_check=partner_form.cleaned_data["identity_check"],
                use_limit=partner_form.use_limit_chosen(),
                max_queries=partner_form.max_queries_chosen(),
            )
            # The partner's token is shown once, after a redirect.
            return authorized_redirect(request, grant=grant, token=token)
        else:
            first_path = purpose == ConsentPurpose.SCORING and _first_path(
                list(selectors.consent_grants_for_user(user=request.user))
            )
            services.consent_grant(user=request.user, purpose=purpose, client=client)
    except ServiceError as error:
        if partner_form is None:
            messages.error(request, error.message)
            return redirect("accounts:consents")
        partner_form.add_error(_PARTNER_FIELDS.get(error.code), error.message)
        return render(
            request,
            "accounts/consents.html",
            _consent_page_context(request, partner_form),
            status=400,
        )
    if partner_form is None and first_path:
        # The last step of the first path: on to the score being revealed.
        messages.success(
            request,
            _("Consent given. Your score appears below; you can revoke consent at any time."),
        )
        return redirect("home")
    messages.success(request, _("Consent given. You can revoke it here at any time."))
    return redirect("accounts:consents")


@login_required
@require_POST
def consent_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    try:
        services.consent_revoke(
            user=request.user,
            grant_id=grant_id,
            client=client_from_request(request, channel=ConsentGrant.Channel.WEB),
        )
    except ServiceError as error:
        if error.status_code == 404:
            raise Http404 from None
        # Already revoked: say so, and show the row as it is.
        level, notice = messages.INFO, error.message
    else:
        level, notice = messages.SUCCESS, _("Consent revoked.")
    messages.add_message(request, level, notice)
    if request.htmx:
        # The row swaps in place; the notice replaces the message area out of band.
        grant = consent_grants_with_partners(user=request.user).get(pk=grant_id)
        return render(request, "accounts/_consent_revoked.html", {"grant": grant})
    return redirect("accounts:consents")
