"""What the partner API needs: partners' keys, the users' authorisations of a partner
(with their terms), the log of every call, and the anomalies flagged in it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from benefits.models.catalogue import Benefit
from benefits.models.partners import Partner


class ConsentScope(models.TextChoices):
    SCORE = "score", _("Score only")
    SCORE_AND_SUBSCORES = "score_and_subscores", _("Score and the five sub-scores")
    ELIGIBILITY = "eligibility", _("Eligibility for one benefit (yes or no)")


class ConsentUseLimit(models.TextChoices):
    """How many times a partner may use an authorisation. One query is QUERIES with
    max_queries 1; "until one decision" ends when the partner reports its decision."""

    NONE = "", _("No limit until it ends")
    QUERIES = "queries", _("A number of queries")
    DECISION = "decision", _("Until one decision")


class UseLimitChoice(models.TextChoices):
    """The limit in use as a person chooses it on a consent screen (and the API takes
    it); stored as a ConsentUseLimit, one query as a limit of one query."""

    NONE = "none", _("No limit until it ends")
    ONE_QUERY = "one_query", _("One query")
    QUERIES = "queries", _("A number of queries")
    DECISION = "decision", _("Until one decision")


# The most queries a person may allow on one authorisation limited to N queries.
MAX_QUERIES_LIMIT = 100


class ExpiryAnswer(models.TextChoices):
    """What a person answered when reminded that an authorisation ends soon."""

    RENEWED = "renewed", _("Renewed")
    LAPSE = "lapse", _("Let it lapse")


class PartnerApiKey(models.Model):
    """A partner's key: shown once when created, stored as its SHA-256 only. A partner
    may hold several, to rotate them; a revoked key stops at once."""

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("partner")
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    prefix = models.CharField(_("key id"), max_length=16, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.partner})"


class PartnerAuthorization(models.Model):
    """A person's authorisation of a partner: the partner's side of a partner-sharing
    consent grant. The grant (accounts' ledger) records the consent itself, its text
    version, expiry and revocation; this records with whom and on what terms, and holds
    the token, so revoking the grant stops the token at the partner's next call."""

    grant = models.OneToOneField(
        "accounts.ConsentGrant", on_delete=models.CASCADE, related_name="authorization"
    )
    # Protected: the authorisation is evidence of what the person allowed, kept as long
    # as the grant it belongs to.
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        related_name="authorizations",
        verbose_name=_("partner"),
    )
    scope = models.CharField(_("scope"), max_length=30, choices=ConsentScope.choices)
    stated_purpose = models.CharField(_("stated purpose"), max_length=200, blank=True)
    # Whether the person ticked "may check my name and ID number" (yes/no answers), and
    # how far the partner may use the authorisation.
    identity_check = models.BooleanField(_("identity checks allowed"), default=False)
    use_limit = models.CharField(
        _("limited to"), max_length=10, choices=ConsentUseLimit.choices, blank=True, default=""
    )
    max_queries = models.PositiveSmallIntegerField(_("queries allowed"), null=True, blank=True)
    # The one benefit an eligibility-only authorisation is about.
    benefit = models.ForeignKey(
        Benefit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    # What the partner has used of it, counted under a row lock (the terms above say
    # how far it may go): answered queries, identity checks on the last day one was
    # made, and mismatching identity checks in all.
    queries_used = models.PositiveIntegerField(_("queries used"), default=0)
    identity_checks_on = models.DateField(_("last identity check on"), null=True, blank=True)
    identity_checks_that_day = models.PositiveSmallIntegerField(
        _("identity checks that day"), default=0
    )
    identity_mismatches = models.PositiveSmallIntegerField(_("identity mismatches"), default=0)
    # Its end is near: when the person was reminded (once), and what they answered.
    expiry_reminded_at = models.DateTimeField(_("expiry reminded at"), null=True, blank=True)
    expiry_answer = models.CharField(
        _("answer to the expiry reminder"),
        max_length=10,
        choices=ExpiryAnswer.choices,
        blank=True,
        default="",
    )

    class Meta:
        verbose_name = _("partner authorisation")
        verbose_name_plural = _("partner authorisations")

    def __str__(self) -> str:
        return f"authorisation {self.prefix} of {self.partner}"


class PartnerDecision(models.TextChoices):
    """What a partner reports it decided with an authorisation."""

    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    DEPOSIT_WAIVED = "deposit_waived", _("Deposit waived")
    LIMIT = "limit", _("A credit limit")


class PartnerQuery(models.Model):
    """One call of the partner API: who asked about whom, for what, what was disclosed
    and what was answered. Shown to the user under "who checked my score"."""

    class Kind(models.TextChoices):
        SCORE = "score", _("Score")
        ELIGIBILITY = "eligibility", _("Benefit eligibility")
        VOUCHER_VERIFY = "voucher_verify", _("Voucher check")
        VOUCHER_REDEEM = "voucher_redeem", _("Voucher redemption")
        IDENTITY_CHECK = "identity_check", _("Identity check")
        DECISION = "decision", _("Decision reported")
        ERASURE = "erasure_requests", _("Erasure requests")

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="queries", verbose_name=_("partner")
    )
    api_key = models.ForeignKey(
        PartnerApiKey, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="partner_queries",
    )
    authorization = models.ForeignKey(
        PartnerAuthorization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("call"), max_length=20, choices=Kind.choices)
    purpose = models.CharField(_("stated purpose"), max_length=200, blank=True)
    fields_disclosed = models.JSONField(_("disclosed"), default=list, blank=True)
    # What was answered or reported beyond the field names, never personal data: an
    # identity check's {"match": bool}; a decision's {decision, reason_code, limit?}.
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    outcome = models.CharField(_("outcome"), max_length=40)  # "ok" or the error code
    status_code = models.PositiveSmallIntegerField(_("HTTP status"))
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("partner query")
        verbose_name_plural = _("partner queries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["partner", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.partner_id} ({self.outcome})"


# The fields a partner call may disclose (PartnerQuery.fields_disclosed), in words.
DISCLOSED_LABELS = {
    "score": _("score"),
    "band": _("band"),
    "computed_at": _("when it was computed"),
    "dimensions": _("sub-scores"),
    "eligible": _("whether you qualify"),
    "points_away": _("points away"),
    "voucher_status": _("voucher status"),
    "match": _("whether the name and ID number are yours"),
}


class PartnerAnomaly(models.Model):
    """Something in a partner's calls that looks like scraping or resale."""

    class Kind(models.TextChoices):
        VOLUME_SPIKE = "volume_spike", _("Calls far above the partner's own baseline")
        MANY_USERS = "many_users", _("Many distinct users in a short time")
        MANY_REFUSALS = "many_refusals", _("Many refused calls")
        IDENTITY_MISMATCHES = "identity_mismatches", _("Repeated identity check mismatches")

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="anomalies", verbose_name=_("partner")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    detail = models.JSONField(_("figures"), default=dict)
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    suspended_partner = models.BooleanField(_("suspended the partner"), default=False)

    class Meta:
        verbose_name = _("anomaly")
        verbose_name_plural = _("anomalies")
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.partner})"
