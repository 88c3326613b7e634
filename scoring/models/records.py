"""What a credit provider receives about a person (accounts, repayments, activity, bills,
holdings, friendships) and the synthetic outcomes the model is trained on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
