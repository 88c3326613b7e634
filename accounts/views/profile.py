"""The step-by-step profile flow. One view renders a step as a full page, or as the
fragment htmx swaps in; without JavaScript the same forms post and redirect. The overview
(`accounts:profile`) shows scoring's provenance too, so it is assembled at the top, in
sesame_portal/pages/profile.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import PROFILE_FORMS, SectionVerificationForm, WorkEmailCodeForm
from accounts.profile_sections import (
    DECLARED_POINTS_CAP,
    SECTION_BY_KEY,
    SECTIONS,
    VERIFICATION_DOCUMENTS,
    completion_percent,
    next_section,
)
from accounts.services.profile import WORK_EMAIL_CODE_MINUTES
from accounts.services.verification import VERIFIABLE_SECTIONS
from sesame_portal.errors import FieldsInvalid, ServiceError


def _step_context(request: HttpRequest, section_key: str, form=None, code_form=None) -> dict:
    section = SECTION_BY_KEY[section_key]
    profile = selectors.profile_get(user=request.user)
    if form is None:
        form = PROFILE_FORMS[section_key](
            instance=profile, birth_date=selectors.birth_date_for_user(user=request.user)
        )
    following = next_section(section_key)
    return {
        "section": section,
        "step_number": list(SECTION_BY_KEY).index(section_key) + 1,
        "step_count": len(SECTIONS),
        "form": form,
        "profile": profile,
        "marks": selectors.profile_field_marks(profile, section.fields),
        "completion": completion_percent(profile),
        "sections": selectors.profile_sections_status(profile),
        "next_url": reverse("accounts:profile_step", args=[following.key])
        if following
        else reverse("accounts:profile"),
        "work_email_pending": section_key == "occupation"
        and selectors.work_email_pending(profile=profile),
        "code_form": code_form or WorkEmailCodeForm(),
        "code_minutes": WORK_EMAIL_CODE_MINUTES,
        "verifiable": section_key in VERIFIABLE_SECTIONS,
    }


def _render_step(
    request: HttpRequest, section_key: str, *, status: int = 200, **forms
) -> HttpResponse:
    context = _step_context(request, section_key, **forms)
    if request.htmx:
        response = render(request, "accounts/profile/_step_swap.html", context)
        response["HX-Push-Url"] = reverse("accounts:profile_step", args=[section_key])
        return response
    return render(request, "accounts/profile/step.html", context, status=status)


def _after_save(request: HttpRequest, section_key: str) -> HttpResponse:
    """Go on to the next step, or stay to type the code of a new work email."""
    profile = selectors.profile_get(user=request.user)
    if section_key == "occupation" and selectors.work_email_pending(profile=profile):
        target = section_key
    else:
        following = next_section(section_key)
        if following is None:
            # Finishing the profile lands on the score it has just changed.
            messages.success(request, _("Profile saved."))
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("home")
                return response
            return redirect("home")
        target = following.key
    if request.htmx:
        return _render_step(request, target)
    return redirect("accounts:profile_step", section=target)


@login_required
@require_POST
def profile_clear(request: HttpRequest, section: str) -> HttpResponse:
    if section not in SECTION_BY_KEY:
        raise Http404
    if services.profile_section_clear(user=request.user, section=section):
        messages.success(
            request,
            _(
                "Deleted: %(section)s. Your score is recomputed without it; you can enter it "
                "again at any time."
            )
            % {"section": SECTION_BY_KEY[section].title},
        )
    return redirect("accounts:profile")


@login_required
@require_http_methods(["GET", "POST"])
def profile_step(request: HttpRequest, section: str) -> HttpResponse:
    if section not in SECTION_BY_KEY:
        raise Http404
    if request.method == "GET":
        return _render_step(request, section)
    profile = selectors.profile_get(user=request.user)
    form = PROFILE_FORMS[section](
        request.POST,
        instance=profile,
        birth_date=selectors.birth_date_for_user(user=request.user),
    )
    if not form.is_valid():
        return _render_step(request, section, form=form, status=400)
    values = {field: form.cleaned_data.get(field) for field in SECTION_BY_KEY[section].fields}
    try:
        services.profile_update(user=request.user, sections={section: values})
    except FieldsInvalid as refused:
        # The answers changed under the form (an identity verified meanwhile, say).
        for field, messages in refused.fields.items():
            form.add_error(field, messages)
        return _render_step(request, section, form=form, status=400)
    except ServiceError as error:
        # Nothing was saved: a new work email is refused when no code may be sent now.
        form.add_error("work_email" if "work_email" in form.fields else None, error.message)
        return _render_step(request, section, form=form, status=400)
    return _after_save(request, section)


@login_required
@require_POST
def profile_work_email_code(request: HttpRequest) -> HttpResponse:
    code_form = WorkEmailCodeForm(request.POST)
    if code_form.is_valid():
        try:
            services.work_email_verify(user=request.user, code=code_form.cleaned_data["code"])
        except ServiceError as error:
            code_form.add_error("code", error.message)
        else:
            messages.success(request, _("Your work email is verified."))
            return _after_save(request, "occupation")
    return _render_step(request, "occupation", code_form=code_form, status=400)


@login_required
@require_POST
def profile_work_email_resend(request: HttpRequest) -> HttpResponse:
    try:
        services.work_email_challenge_start(user=request.user)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A new code is on its way."))
    if request.htmx:
        return _render_step(request, "occupation")
    return redirect("accounts:profile_step", section="occupation")


@login_required
@require_http_methods(["GET", "POST"])
def profile_verify(request: HttpRequest, section: str) -> HttpResponse:
    """Verify one section with a document (or, for education, a CHSI code): the form,
    and what became of earlier requests."""
    if section not in VERIFIABLE_SECTIONS:
        raise Http404
    posted = request.method == "POST"
    form = SectionVerificationForm(
        request.POST if posted else None, request.FILES if posted else None, section=section
    )
    if posted and form.is_valid():
        try:
            services.section_verification_file(
                user=request.user,
                section=section,
                document=form.cleaned_data.get("document"),
                code=form.cleaned_data.get("code"),
            )
        except ServiceError as error:
            field = "code" if error.code == "code" and "code" in form.fields else "document"
            form.add_error(
                None if error.code in ("already_filed", "incomplete") else field, error.message
            )
        else:
            messages.success(
                request,
                _("Sent. Our staff check it, usually within two working days, and tell you here."),
            )
            return redirect("accounts:profile_verify", section=section)
    profile = selectors.profile_get(user=request.user)
    spec = SECTION_BY_KEY[section]
    requests = list(selectors.section_verifications_for_user(user=request.user, section=section))
    marks = selectors.profile_field_marks(profile, spec.fields)
    return render(
        request,
        "accounts/profile/verify.html",
        {
            "section": spec,
            "form": form,
            "complete": bool(profile.pk) and spec.is_complete(profile),
            "marks": marks,
            "all_verified": bool(marks) and all(mark["verified"] for mark in marks),
            "requests": requests,
            "pending": next((r for r in requests if r.status == "pending"), None),
            "what_to_send": VERIFICATION_DOCUMENTS[section],
            "declared_cap": DECLARED_POINTS_CAP,
        },
        status=400 if posted else 200,
    )
