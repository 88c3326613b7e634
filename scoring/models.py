"""What a credit provider receives about a person, the trained model versions, and the
score snapshots computed from both."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models.evidence import SealedEvidence
from scoring.reasons import trigger_text
from scoring.scorecard import SCORE_MAX, SCORE_MIN


class CreditAccount(models.Model):
    class Kind(models.TextChoices):
        CREDIT_CARD = "credit_card", _("Credit card")
        CONSUMER_LOAN = "consumer_loan", _("Consumer loan")
        CAR_LOAN = "car_loan", _("Car loan")
        MORTGAGE = "mortgage", _("Mortgage")
        MICROLOAN = "microloan", _("Online microloan")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_accounts"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    credit_limit = models.DecimalField(_("credit limit"), max_digits=12, decimal_places=2)
    balance = models.DecimalField(_("balance"), max_digits=12, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("credit account")
        verbose_name_plural = _("credit accounts")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.user_id}"


class Repayment(models.Model):
    """One instalment due on a credit account, and how it was paid."""

    account = models.ForeignKey(CreditAccount, on_delete=models.CASCADE, related_name="repayments")
    # Denormalised so a chunk of users is read with one indexed query.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="repayments"
    )
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    paid_date = models.DateField(_("paid date"), null=True, blank=True)
    days_overdue = models.PositiveIntegerField(_("days overdue"), default=0)

    class Meta:
        verbose_name = _("repayment")
        verbose_name_plural = _("repayments")
        indexes = [models.Index(fields=["user", "due_date"])]

    def __str__(self) -> str:
        return f"repayment due {self.due_date} ({self.days_overdue} days overdue)"


class ActivityMonth(models.Model):
    """Payment and transfer activity, as the monthly summary a provider receives."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_months"
    )
    month = models.DateField(_("month"))  # the first day of the month
    spend = models.DecimalField(_("spending"), max_digits=12, decimal_places=2)
    transfers_in = models.DecimalField(
        _("transfers in"), max_digits=12, decimal_places=2, default=0
    )
    transactions = models.PositiveIntegerField(_("transactions"))
    categories = models.PositiveSmallIntegerField(_("spending categories used"))

    class Meta:
        verbose_name = _("activity month")
        verbose_name_plural = _("activity months")
        constraints = [
            models.UniqueConstraint(fields=["user", "month"], name="activity_month_per_user")
        ]

    def __str__(self) -> str:
        return f"activity {self.month:%Y-%m} of {self.user_id}"


class UtilityBill(models.Model):
    class Kind(models.TextChoices):
        WATER = "water", _("Water")
        POWER = "power", _("Electricity")
        GAS = "gas", _("Gas")
        PHONE = "phone", _("Phone")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="utility_bills"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    paid_date = models.DateField(_("paid date"), null=True, blank=True)

    class Meta:
        verbose_name = _("utility bill")
        verbose_name_plural = _("utility bills")
        indexes = [models.Index(fields=["user", "due_date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} bill due {self.due_date}"


class WealthHolding(models.Model):
    class Product(models.TextChoices):
        MONEY_MARKET = "money_market", _("Money-market fund")
        FUND = "fund", _("Investment fund")
        DEPOSIT = "deposit", _("Time deposit")
        INSURANCE = "insurance", _("Savings insurance")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wealth_holdings"
    )
    product = models.CharField(_("product"), max_length=20, choices=Product.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    as_of = models.DateField(_("as of"))

    class Meta:
        verbose_name = _("wealth holding")
        verbose_name_plural = _("wealth holdings")
        indexes = [models.Index(fields=["user", "as_of"])]

    def __str__(self) -> str:
        return f"{self.get_product_display()} of {self.user_id}"


class Friendship(models.Model):
    """A verified connection, stored once per direction so a chunk reads one index."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="friendships"
    )
    friend = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    verified_at = models.DateTimeField(_("verified at"), default=timezone.now)

    class Meta:
        verbose_name = _("verified friend")
        verbose_name_plural = _("verified friends")
        constraints = [models.UniqueConstraint(fields=["user", "friend"], name="friendship_once")]

    def __str__(self) -> str:
        return f"{self.user_id} ↔ {self.friend_id}"


class SyntheticOutcome(models.Model):
    """For generated people only: the true default probability the generator used and
    the drawn 12-month outcome, so the best achievable AUC is known."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="synthetic_outcome"
    )
    seed = models.BigIntegerField()
    p_default = models.FloatField()
    defaulted = models.BooleanField()

    def __str__(self) -> str:
        return f"synthetic outcome of {self.user_id}"


class ModelVersion(models.Model):
    """A trained scorecard. The artifact is JSON (tables of bins and points, nothing
    executable) and its sha256 is checked every time it is loaded."""

    class Kind(models.TextChoices):
        PORTAL = "portal", _("Portal features")
        EXTERNAL = "external", _("External CSV")

    version = models.CharField(_("version"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    artifact = models.BinaryField(_("artifact"))
    sha256 = models.CharField(_("sha256"), max_length=64)
    card = models.JSONField(_("model card"), default=dict)
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when the artifact last failed its check (missing, changed or unreadable);
    # cleared when it verifies again. Shown to admins as an alert.
    integrity_failed_at = models.DateTimeField(
        _("integrity check failed at"), null=True, blank=True
    )
    integrity_error = models.CharField(_("integrity error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(is_active=True),
                name="one_active_model_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.version


class ScoreSnapshot(models.Model):
    """One computed score, with everything needed to explain it later."""

    class Band(models.TextChoices):
        POOR = "poor", _("Poor")
        FAIR = "fair", _("Fair")
        GOOD = "good", _("Good")
        VERY_GOOD = "very_good", _("Very good")
        EXCELLENT = "excellent", _("Excellent")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="score_snapshots"
    )
    score = models.PositiveSmallIntegerField(_("score"))
    band = models.CharField(_("band"), max_length=10, choices=Band.choices)
    dimensions = models.JSONField(_("sub-scores"))  # {dimension: 0..100}
    contributions = models.JSONField(_("points by feature"))  # {feature: points}
    reasons = models.JSONField(_("reasons"))  # [{code, feature, impact}], largest first
    features = models.JSONField(_("feature values"))  # {feature: value or None}
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="snapshots"
    )
    trigger = models.CharField(_("trigger"), max_length=60)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    run = models.ForeignKey(
        "RecomputeRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )

    class Meta:
        verbose_name = _("score snapshot")
        verbose_name_plural = _("score snapshots")
        indexes = [models.Index(fields=["user", "-computed_at"])]
        constraints = [
            # A chunk delivered twice (a worker killed mid-way) cannot score anyone twice.
            models.UniqueConstraint(
                fields=["user", "run"],
                condition=models.Q(run__isnull=False),
                name="one_snapshot_per_user_per_run",
            ),
        ]
        get_latest_by = "computed_at"

    def __str__(self) -> str:
        return f"{self.score} for {self.user_id} at {self.computed_at:%Y-%m-%d %H:%M}"

    @property
    def trigger_label(self) -> str:
        return trigger_text(self.trigger)


class RecomputeRun(models.Model):
    """One recompute of everyone (nightly, or asked for by an admin), split into chunks."""

    class Kind(models.TextChoices):
        NIGHTLY = "nightly", _("Nightly")
        MANUAL = "manual", _("Manual")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    chunk_size = models.PositiveIntegerField(_("chunk size"))
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    users_done = models.PositiveIntegerField(_("users scored"), default=0)
    failures = models.PositiveIntegerField(_("failed chunk attempts"), default=0)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("recompute run")
        verbose_name_plural = _("recompute runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.pk}"

    @property
    def progress(self) -> int:
        return round(100 * self.chunks_done / self.chunks_total) if self.chunks_total else 100


class RecomputeChunk(models.Model):
    """A range of user ids within a run. Done exactly once, however often it is delivered."""

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="chunks")
    first_user_id = models.BigIntegerField()
    last_user_id = models.BigIntegerField()
    queued_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    users_done = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "first_user_id"], name="chunk_once_per_run")
        ]
        indexes = [models.Index(fields=["run", "done_at"])]

    def __str__(self) -> str:
        return f"users {self.first_user_id}-{self.last_user_id} of run {self.run_id}"


class PendingRecompute(models.Model):
    """A user's per-user recompute from the moment it is queued until it is done.

    Queued (started_at empty): changes arriving meanwhile ride on it instead of queueing
    another. Running (started_at set): a new change queues again. Failed (failed_at set):
    the worker gave up; the score home stops waiting and says so. Done: the row is gone.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"pending recompute of {self.user_id}"


class ScoreProof(models.Model):
    """A link (and QR code) the person gives a merchant instead of a screenshot: signed
    by the portal, showing only what the person chose, judged on their current score
    when opened, until it expires or they revoke it."""

    class Shows(models.TextChoices):
        BAND = "band", _("My score band")
        AT_LEAST = "at_least", _("Whether my score is at least a number")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="score_proofs"
    )
    shows = models.CharField(_("shows"), max_length=10, choices=Shows.choices)
    threshold = models.PositiveSmallIntegerField(_("at least"), null=True, blank=True)
    show_name = models.BooleanField(_("shows the masked name"), default=False)
    # Signed into the link together with the id: a link for a deleted proof that is
    # re-created under the same id does not come back to life.
    nonce = models.CharField(max_length=32)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("score proof")
        verbose_name_plural = _("score proofs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shows="band", threshold__isnull=True)
                | models.Q(shows="at_least", threshold__gte=SCORE_MIN, threshold__lte=SCORE_MAX),
                name="proof_threshold_matches_what_it_shows",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="proof_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"proof {self.pk} of {self.user_id}"


class ScoreProofOpening(models.Model):
    """Each time a proof link is opened, answered or not: the person sees them all."""

    proof = models.ForeignKey(ScoreProof, on_delete=models.CASCADE, related_name="openings")
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=20)  # shown, expired, revoked, …
    answer = models.CharField(_("what it showed"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("proof opening")
        verbose_name_plural = _("proof openings")
        indexes = [models.Index(fields=["proof", "-opened_at"])]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.opened_at:%Y-%m-%d %H:%M}"


class Dispute(models.Model):
    """A person contests one of their records (异议申诉): a repayment, a utility bill, the
    court-list match or a profile answer. Admins answer within 20 days; a correction
    recomputes the score. The record shows as under review meanwhile."""

    class Kind(models.TextChoices):
        REPAYMENT = "repayment", _("A repayment")
        BILL = "bill", _("A utility bill")
        COURT_LIST = "court_list", _("The court-list match")
        PROFILE = "profile", _("A profile answer")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        UNDER_REVIEW = "under_review", _("Under review")
        CORRECTED = "corrected", _("Corrected")
        REJECTED = "rejected", _("Rejected")

    OPEN = (Status.RECEIVED, Status.UNDER_REVIEW)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="disputes"
    )
    kind = models.CharField(_("record"), max_length=12, choices=Kind.choices)
    # The disputed record: a Repayment or UtilityBill id, or a profile field name.
    record_id = models.PositiveBigIntegerField(_("record id"), null=True, blank=True)
    field = models.CharField(_("profile field"), max_length=40, blank=True)
    record_summary = models.CharField(_("record as it stood"), max_length=200)
    statement = models.TextField(_("statement"), max_length=2000)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    resolution = models.TextField(_("resolution"), blank=True)
    created_at = models.DateTimeField(_("received at"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due by"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["due_at"]
        # Staff open a person's evidence only with this permission (superusers have it).
        permissions = [("view_dispute_evidence", _("Can open the evidence of disputes"))]
        indexes = [models.Index(fields=["status", "due_at"]), models.Index(fields=["user", "kind"])]

    def __str__(self) -> str:
        return f"dispute {self.pk} ({self.get_kind_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class DisputeAttachment(SealedEvidence):
    """The optional evidence, handed out only to its owner and to staff."""

    dispute = models.OneToOneField(Dispute, on_delete=models.CASCADE, related_name="attachment")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")


class DisputeEvidenceAccess(models.Model):
    """Each download of a dispute's evidence: by its owner or by staff, and when. The
    person sees the staff openings by role (never by username) and gets them in their
    export; the admin keeps who it was."""

    class Role(models.TextChoices):
        OWNER = "owner", _("owner")
        STAFF = "staff", _("staff")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence_accesses")
    role = models.CharField(_("opened by"), max_length=8, choices=Role.choices)
    # Kept when the staff account goes: the person's record of the opening stays.
    accessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("account"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("evidence opening")
        verbose_name_plural = _("evidence openings")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.role} at {self.at:%Y-%m-%d %H:%M}"


class DisputeEvent(models.Model):
    """The dispute's timeline, as the person sees it."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=12, choices=Dispute.Status.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("dispute event")
        verbose_name_plural = _("dispute events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.status} at {self.at:%Y-%m-%d %H:%M}"


class PersonalStatement(models.Model):
    """本人声明: a short statement the person adds, shown with their data."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_statement"
    )
    text = models.CharField(_("personal statement"), max_length=300)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("personal statement")
        verbose_name_plural = _("personal statements")

    def __str__(self) -> str:
        return f"statement of {self.user_id}"


class CourtListImport(models.Model):
    """One upload of the court list: what it held and which rows were refused."""

    file_name = models.CharField(_("file name"), max_length=200)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("imported by"),
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_added = models.PositiveIntegerField(_("people added"), default=0)
    rows_bad = models.PositiveIntegerField(_("rows refused"), default=0)
    # An import is the whole list: whoever it no longer holds is removed.
    rows_removed = models.PositiveIntegerField(_("people removed"), default=0)
    # Listed with the same entry as when a dispute about it was corrected: kept off.
    rows_kept_off = models.PositiveIntegerField(_("kept off after a dispute"), default=0)
    # [{"line": n, "message": text}]: never the row itself, which holds a name and ID number.
    errors = models.JSONField(_("refused rows"), default=list, blank=True)

    class Meta:
        verbose_name = _("court list import")
        verbose_name_plural = _("court list imports")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"


class CourtListEntry(models.Model):
    """A person on the court list of dishonest judgment debtors (失信被执行人), kept only
    as the keyed hash of the ID number (the same HMAC as verified identities)."""

    id_number_hash = models.CharField(_("ID number keyed hash"), max_length=64, unique=True)
    # The keyed hash of the person's entry as the list gives it (the ID number and its
    # case numbers): a corrected dispute holds until the list changes the entry.
    entry_hash = models.CharField(_("entry keyed hash"), max_length=64, blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    source = models.ForeignKey(
        CourtListImport,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entries",
        verbose_name=_("import"),
    )

    class Meta:
        verbose_name = _("court list entry")
        verbose_name_plural = _("court list entries")

    def __str__(self) -> str:
        return f"court list entry {self.pk}"


class CourtListOverride(models.Model):
    """A court-list match that staff corrected in the person's favour (a dispute about
    it, answered "corrected"): the entry is removed and stays removed while later
    imports list the same entry. An import that changes the entry (a new case number)
    or drops the person ends the override."""

    id_number_hash = models.CharField(_("ID number keyed hash"), max_length=64, unique=True)
    entry_hash = models.CharField(_("entry keyed hash"), max_length=64, blank=True)
    dispute = models.ForeignKey(
        Dispute,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("dispute"),
    )
    created_at = models.DateTimeField(_("corrected at"), default=timezone.now)

    class Meta:
        verbose_name = _("court list correction")
        verbose_name_plural = _("court list corrections")

    def __str__(self) -> str:
        return f"court list correction {self.pk}"
