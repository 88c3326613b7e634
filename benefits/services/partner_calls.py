"""What the partner API answers, and the log row every call leaves, answered or not.

Each call discloses the least its authorisation allows and refuses with a code outside
its purpose, scope or time; an unknown token and another partner's token are refused
alike, so a partner learns nothing about people who did not authorise it."""

from __future__ import annotations

import datetime
import functools
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.crypto import keyed_hash
from accounts.models import (
    ConsentRevocation,
    Identity,
)
from accounts.notifications import data_used_insert_sql, data_used_notify
from accounts.resident_id import normalise_id_number, normalise_name
from accounts.selectors import EXPIRED, identity_full_name
from accounts.services.consent import consent_used_up
from benefits.credentials import (
    API_KEY_KIND,
    TOKEN_KIND,
    credential_hash,
    credential_matches,
    credential_prefix,
)
from benefits.eligibility import eligibility_of
from benefits.models import (
    ConsentUseLimit,
    Partner,
    PartnerApiKey,
    PartnerAuthorization,
    PartnerQuery,
    Voucher,
)
from benefits.selectors import (
    DECISION,
    IDENTITY_CHECK,
    OUT_OF_SCOPE,
    PARTNER_NOT_APPROVED,
    authorisation_refusal,
    authorisation_with_score,
    benefits_offered,
    person_of,
)
from benefits.services.anomalies import identity_mismatches_flag
from benefits.services.partner_access import PARTNER_ACCESS_VERSION
from benefits.services.receipts import decision_receipt_record
from scoring.models import ScoreSnapshot
from scoring.selectors import personal_statement_text, score_usable
from sesame_portal.counters import (
    counter_subtract,
    counters_add,
    counters_add_versioned,
    version_read,
)
from sesame_portal.errors import ServiceError

VOUCHER_CODE_RE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){3}")
# Identity checks on one authorisation: at most this many a day, and none after this
# many mismatches in all (a partner that holds the right name and number needs one).
IDENTITY_CHECKS_PER_DAY = 3
IDENTITY_MISMATCHES_MAX = 3
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


@dataclass
class CallRecord:
    """What the log row of one call will say; filled in as the call learns it."""

    partner: Partner
    api_key: PartnerApiKey | None
    kind: str
    user_id: int | None = None
    authorization: PartnerAuthorization | None = None
    purpose: str = ""
    fields_disclosed: list[str] = field(default_factory=list)
    detail: dict = field(default_factory=dict)  # see PartnerQuery.detail
    status_code: int = 200  # of the answer, when the call is answered
    # An answered call that counts one use of its authorisation with its log row, in
    # one statement (the score query's fast path: no row lock, no limit in queries).
    counts_use: bool = False
    logs: bool = True  # False: the call goes on, and its log row is written later


# The calls that tell the person at once that their data was used (a DATA_USED
# notification written with the log row), unless they chose a weekly digest.
ALERTED_KINDS = frozenset(
    {PartnerQuery.Kind.SCORE, PartnerQuery.Kind.IDENTITY_CHECK, PartnerQuery.Kind.VOUCHER_REDEEM}
)


def _alerts(record: CallRecord, outcome: str) -> bool:
    return outcome == "ok" and record.user_id is not None and record.kind in ALERTED_KINDS


def _log(record: CallRecord, outcome: str, status_code: int) -> None:
    row = PartnerQuery(
        partner=record.partner,
        api_key=record.api_key,
        user_id=record.user_id,
        authorization=record.authorization,
        kind=record.kind,
        purpose=record.purpose[:200],
        fields_disclosed=record.fields_disclosed if outcome == "ok" else [],
        detail=record.detail if outcome == "ok" else {},
        outcome=outcome,
        status_code=status_code,
    )
    alerts = _alerts(record, outcome)
    if not (record.counts_use and outcome == "ok"):
        if not alerts:
            row.save(force_insert=True)
            return
        with transaction.atomic():
            row.save(force_insert=True)
            data_used_notify(user_id=row.user_id, query_id=row.pk, at=row.created_at)
    elif connection.vendor == "postgresql":
        # One statement, so one round trip and one commit: the use is counted if and only
        # if the call is logged, the person is told with it, and all are durable before
        # the answer leaves.
        sql, fields = _fast_log_sql(alerts)
        params = [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, [record.authorization.pk, *params])
    else:
        with transaction.atomic():
            PartnerAuthorization.objects.filter(pk=record.authorization.pk).update(
                queries_used=F("queries_used") + 1
            )
            row.save(force_insert=True)
            if alerts:
                data_used_notify(user_id=row.user_id, query_id=row.pk, at=row.created_at)


@functools.cache
def _fast_log_sql(alerts: bool) -> tuple[str, list]:
    """The fast path's statement (PostgreSQL), built once per process: the use counted,
    the log row inserted and, with `alerts`, the DATA_USED notification inserted from the
    row unless the person chose a weekly digest. Its parameters: the authorisation's id,
    then the log row's `fields`."""
    fields = [f for f in PartnerQuery._meta.concrete_fields if not f.primary_key]
    query = InsertQuery(PartnerQuery)
    query.insert_values(fields, [PartnerQuery(**{f.attname: None for f in fields})])
    ((insert, _params),) = query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    used = (
        f"WITH used AS (UPDATE {quote(PartnerAuthorization._meta.db_table)} "  # noqa: S608
        "SET queries_used = queries_used + 1 WHERE id = %s)"
    )
    if not alerts:
        return f"{used} {insert}", fields
    notify = data_used_insert_sql(
        user="logged.user_id",
        params="jsonb_build_object('query_id', logged.id)",
        at="logged.created_at",
        source=" FROM logged",
    )
    return f"{used}, logged AS ({insert} RETURNING id, user_id, created_at) {notify}", fields


@contextmanager
def logged_call(
    *, partner: Partner, api_key: PartnerApiKey | None, kind: str
) -> Iterator[CallRecord]:
    """Run one partner call and log it, whatever its outcome."""
    record = CallRecord(partner=partner, api_key=api_key, kind=kind)
    try:
        yield record
    except ServiceError as exc:
        _log(record, exc.code, exc.status_code)
        exc.logged = True  # the view's handler logs only refusals not logged here
        raise
    if record.logs:
        _log(record, "ok", record.status_code)


def refusal_log(
    *, partner: Partner, api_key: PartnerApiKey | None, kind: str, code: str, status_code: int
) -> None:
    """Log a call refused before its own logic ran (rate limit, quota, a partner that is
    not approved, a body that is not valid): the log and the anomaly flags see it too."""
    _log(CallRecord(partner=partner, api_key=api_key, kind=kind), code, status_code)


# --- Rate limits ------------------------------------------------------------------------------


def partner_rate_check(*, partner: Partner, now: datetime.datetime | None = None) -> None:
    """Count the call against the partner's per-minute limit and daily quota, kept in the
    cache so that every gunicorn process shares them (Redis in production).

    If the cache cannot be reached the call is refused (503): the limits exist against
    scraping and resale, so they fail closed rather than open.
    """
    now = now or timezone.now()
    try:
        per_minute, per_day = counters_add(*_rate_counters(partner.pk, now))
    except Exception:  # any cache failure means "cannot count"
        raise _uncountable() from None
    _rate_limits_check(partner, per_minute, per_day, now)


def _rate_counters(partner_id: int, now: datetime.datetime) -> list[tuple[str, int]]:
    """The (key, time to live) of the partner's counter this minute and today."""
    return [
        (f"partner-rate:{partner_id}:{int(now.timestamp()) // 60}", 120),
        (f"partner-day:{partner_id}:{timezone.localtime(now):%Y%m%d}", 2 * 86400),
    ]


def _uncountable() -> ServiceError:
    return ServiceError(
        "rate_limit_unavailable",
        _("Calls cannot be counted right now; try again shortly."),
        status_code=503,
        retry_after=30,
    )


def _rate_limits_check(
    partner: Partner, per_minute: int, per_day: int, now: datetime.datetime
) -> None:
    """Refuse the call that took a counter past the partner's limit."""
    local = timezone.localtime(now)
    if per_minute > partner.rate_limit_per_minute:
        raise ServiceError(
            "rate_limited",
            _("Too many calls this minute."),
            status_code=429,
            retry_after=60 - local.second,
        )
    if per_day > partner.daily_quota:
        midnight = (local + datetime.timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        raise ServiceError(
            "quota_exhausted",
            _("The daily quota of calls is used up."),
            status_code=429,
            retry_after=int((midnight - local).total_seconds()) + 1,
        )


# --- Keys ------------------------------------------------------------------------------------


def api_key_find(value: str) -> PartnerApiKey | None:
    """The key (with its partner) of a credential as a partner sends it, while it is not
    revoked; None for an unknown, malformed, wrong or revoked key."""
    prefix = credential_prefix(value, API_KEY_KIND)
    key = (
        PartnerApiKey.objects.select_related("partner").filter(prefix=prefix).first()
        if prefix
        else None
    )
    if key is None or key.revoked_at is not None or not credential_matches(value, key.key_hash):
        return None
    return key


def api_key_used(key: PartnerApiKey, now: datetime.datetime) -> None:
    """Note that the key is in use: at most one write a minute per key (per process with
    the key cache), enough to tell a key in use from one that can be revoked."""
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_PRECISION:
        PartnerApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


@dataclass(frozen=True)
class _CachedKey:
    key: PartnerApiKey  # with its partner
    version: str  # PARTNER_ACCESS_VERSION when the key was read
    read_at: float  # time.monotonic()


# Keys (with their partners) this process has read, by the credential's hash; checked
# against PARTNER_ACCESS_VERSION on every call (partner_admit). Bounded: past KEYS_CACHED
# the cache starts again; and an entry is read again after KEY_CACHE_SECONDS whatever the
# version says, should a change ever fail to bump it.
_keys: dict[str, _CachedKey] = {}
KEYS_CACHED = 1000
KEY_CACHE_SECONDS = 60.0


def _key_cached(value: str) -> _CachedKey | None:
    digest = credential_hash(value)
    cached = _keys.get(digest)
    if cached is not None and time.monotonic() - cached.read_at < KEY_CACHE_SECONDS:
        return cached
    # The version first: a change made while the key is read bumps it after, and the
    # next call sees the entry stale.
    version = version_read(PARTNER_ACCESS_VERSION)
    key = api_key_find(value)
    if key is None:
        _keys.pop(digest, None)
        return None
    if len(_keys) >= KEYS_CACHED:
        _keys.clear()
    _keys[digest] = cached = _CachedKey(key=key, version=version, read_at=time.monotonic())
    return cached


def partner_admit(*, value: str, kind: str, now: datetime.datetime) -> PartnerApiKey | None:
    """The fast way in for a partner call: the key and its partner from this process's
    cache, and the partner's counters and the revocation version in one Redis round trip.
    The key (with its partner) when the call may go on; None when the full checks must
    answer (an unknown or revoked key, a partner not approved, a cache found stale:
    nothing counted). Raises the rate limits' refusals (partner_rate_check's), logged as
    calls of this kind."""
    try:
        cached = _key_cached(value)
    except Exception:  # the cache is down: the full checks refuse the call, and log it
        return None
    if cached is None or cached.key.partner.status != Partner.Status.APPROVED:
        return None
    key = cached.key
    counters = _rate_counters(key.partner_id, now)
    with logged_call(partner=key.partner, api_key=key, kind=kind) as record:
        try:
            (per_minute, per_day), version = counters_add_versioned(
                PARTNER_ACCESS_VERSION, *counters
            )
        except Exception:
            raise _uncountable() from None
        if version != cached.version:
            # A key was revoked or a partner changed since the key was read: read it
            # again, with the full checks, and count the call there.
            _keys.pop(credential_hash(value), None)
            for counter, _ttl in counters:
                counter_subtract(counter)
            record.logs = False
            return None
        _rate_limits_check(key.partner, per_minute, per_day, now)
        record.logs = False  # admitted: the call itself is logged
    api_key_used(key, now)
    return key


# --- Authorisations ---------------------------------------------------------------------------


def _refused(refusal: str) -> ServiceError:
    """The error for a call its authorisation does not allow (authorisation_refusal's
    answer): by how the authorisation ended, or why it does not cover the call."""
    if refusal == OUT_OF_SCOPE:
        return ServiceError(
            "out_of_scope", _("This authorisation does not cover this call."), status_code=403
        )
    if refusal == EXPIRED:
        return ServiceError(
            "authorization_expired", _("This authorisation has expired."), status_code=403
        )
    if refusal == PARTNER_NOT_APPROVED:
        return ServiceError(
            "partner_not_approved", _("This partner is not approved."), status_code=403
        )
    if refusal == ConsentRevocation.Reason.USED_UP:
        return ServiceError(
            "authorization_used",
            _("This authorisation was limited in use and is used up."),
            status_code=403,
        )
    if refusal == ConsentRevocation.Reason.SUPERSEDED:
        return ServiceError(
            "authorization_replaced",
            _("The person replaced this authorisation with a newer one."),
            status_code=403,
        )
    if refusal == ConsentRevocation.Reason.PARTNER_SUSPENDED:
        return ServiceError(
            "authorization_revoked",
            _(
                "This authorisation ended when the partner was suspended; ask the person to "
                "authorise again."
            ),
            status_code=403,
        )
    return ServiceError(
        "authorization_revoked", _("The person revoked this authorisation."), status_code=403
    )


def _refusal(
    authorization: PartnerAuthorization, disclosure: str, *, benefit_id: int | None = None
) -> str | None:
    """Why the authorisation does not allow this disclosure (None: it does)."""
    return authorisation_refusal(
        authorization=authorization, disclosure=disclosure, benefit_id=benefit_id
    )


def _authorization(record: CallRecord, token: str, *, disclosure: str) -> PartnerAuthorization:
    """The partner's own authorisation for this token, with its grant, while the grant
    allows this disclosure (authorisation_refusal); locked, and its uses and the grant's
    revocation read again under the lock, when the call runs in a transaction."""
    prefix = credential_prefix(token, TOKEN_KIND)
    found = (
        PartnerAuthorization.objects.select_related(
            "partner", "grant", "grant__revocation", "grant__user"
        )
        .filter(prefix=prefix)
        .first()
        if prefix
        else None
    )
    _authorization_found(record, token, found)
    grant = found.grant
    if transaction.get_connection().in_atomic_block:
        # Uses are counted on the locked row: a call waiting here sees what the call
        # before it used, and whether that ended the authorisation.
        locked = PartnerAuthorization.objects.select_for_update().get(pk=found.pk)
        for name in (
            "queries_used",
            "identity_checks_on",
            "identity_checks_that_day",
            "identity_mismatches",
        ):
            setattr(found, name, getattr(locked, name))
        revocation = ConsentRevocation.objects.filter(grant_id=grant.pk).first()
        if revocation is not None:
            grant.revocation = revocation
    refusal = _refusal(found, disclosure)
    if refusal is not None:
        raise _refused(refusal)
    return found


def _authorization_found(
    record: CallRecord, token: str, found: PartnerAuthorization | None
) -> None:
    """Refuse a token that is not the partner's own (an unknown token and another
    partner's alike); else note the authorisation, person and purpose in the log row."""
    if (
        found is None
        or found.partner_id != record.partner.pk
        or not credential_matches(token, found.token_hash)
    ):
        raise ServiceError(
            "authorization_not_found",
            _("This partner holds no such authorisation."),
            status_code=404,
        )
    record.authorization = found
    record.user_id = found.grant.user_id
    record.purpose = found.stated_purpose


def _query_use(authorization: PartnerAuthorization) -> None:
    """Count one answered query (on the row locked by _authorization): past a limit in
    queries the call is refused, and the query that reaches the limit ends the
    authorisation. Refused calls roll back with their transaction and use nothing."""
    if authorization.use_limit == ConsentUseLimit.QUERIES and authorization.queries_used >= (
        authorization.max_queries or 0
    ):
        raise _refused(ConsentRevocation.Reason.USED_UP)
    authorization.queries_used += 1
    PartnerAuthorization.objects.filter(pk=authorization.pk).update(
        queries_used=authorization.queries_used
    )
    if (
        authorization.use_limit == ConsentUseLimit.QUERIES
        and authorization.queries_used >= authorization.max_queries
    ):
        consent_used_up(grant=authorization.grant)


def partner_score(*, partner: Partner, api_key: PartnerApiKey | None, token: str) -> dict:
    with (
        logged_call(partner=partner, api_key=api_key, kind=PartnerQuery.Kind.SCORE) as record,
        transaction.atomic(),
    ):
        authorization = _authorization(record, token, disclosure="score")
        user = authorization.grant.user
        answer = _score_answer(
            record, authorization, score_usable(user=user), personal_statement_text(user=user)
        )
        _query_use(authorization)
        return answer


def _score_answer(
    record: CallRecord,
    authorization: PartnerAuthorization,
    snapshot: ScoreSnapshot | None,
    statement: str | None,
) -> dict:
    """The score as the authorisation's scope discloses it, with the person's personal
    `statement` when they wrote one, named in the call's log row; score_unavailable when
    there is no usable score."""
    if snapshot is None:
        raise ServiceError(
            "score_unavailable", _("No score can be shared for this person."), status_code=404
        )
    answer = {
        "score": snapshot.score,
        "band": snapshot.band,
        "computed_at": timezone.localtime(snapshot.computed_at),
    }
    if _refusal(authorization, "subscores") is None:
        answer["dimensions"] = snapshot.dimensions
    if statement and _refusal(authorization, "personal_statement") is None:
        answer["personal_statement"] = statement
    record.fields_disclosed = sorted(answer)
    return answer


def partner_score_fast(*, partner: Partner, api_key: PartnerApiKey | None, token: str) -> dict:
    """partner_score's answer and log row in two SQL statements, whatever the scope: one
    read (the authorisation with its grant, revocation and partner, the person's scoring
    consent and latest score with its sub-scores: authorisation_with_score), judged by
    the same rules (authorisation_refusal, score_usable's consent), then the log row
    written with the use it counts. An authorisation limited in queries is counted on its
    locked row, by partner_score."""
    now = timezone.now()
    prefix = credential_prefix(token, TOKEN_KIND)
    found = authorisation_with_score(prefix=prefix, at=now) if prefix else None
    if found is not None and found.use_limit == ConsentUseLimit.QUERIES:
        return partner_score(partner=partner, api_key=api_key, token=token)
    with logged_call(partner=partner, api_key=api_key, kind=PartnerQuery.Kind.SCORE) as record:
        _authorization_found(record, token, found)
        refusal = _refusal(found, "score")
        if refusal is not None:
            raise _refused(refusal)
        answer = _score_answer(
            record,
            found,
            found.latest_score if found.scoring_consent else None,
            found.latest_statement,
        )
        record.counts_use = True
        return answer


def partner_eligibility(
    *, partner: Partner, api_key: PartnerApiKey | None, token: str, benefit_id: int
) -> dict:
    with (
        logged_call(partner=partner, api_key=api_key, kind=PartnerQuery.Kind.ELIGIBILITY) as record,
        transaction.atomic(),
    ):
        authorization = _authorization(record, token, disclosure="eligibility")
        grant = authorization.grant
        benefit = benefits_offered().filter(pk=benefit_id, partner=partner).first()
        if benefit is None:
            raise ServiceError(
                "benefit_not_found", _("You offer no such benefit now."), status_code=404
            )
        refusal = _refusal(authorization, "eligibility", benefit_id=benefit.pk)
        if refusal is not None:
            raise _refused(refusal)
        eligibility = eligibility_of(person_of(grant.user), benefit, today=timezone.localdate())
        answer = {"benefit": benefit.pk, "eligible": eligibility.unlocked}
        if _refusal(authorization, "points_away") is None:
            answer["points_away"] = eligibility.points_away
        _query_use(authorization)
        record.fields_disclosed = sorted(key for key in answer if key != "benefit")
        return answer


# --- Vouchers ----------------------------------------------------------------------------------


def _voucher(record: CallRecord, code: str, *, lock: bool = False) -> Voucher:
    code = (code or "").strip().upper()
    if not VOUCHER_CODE_RE.fullmatch(code):
        raise ServiceError(
            "invalid_code", _("A voucher code looks like XXXX-XXXX-XXXX-XXXX."), status_code=400
        )
    vouchers = Voucher.objects.select_related("benefit").filter(
        code=code, benefit__partner=record.partner
    )
    voucher = (vouchers.select_for_update() if lock else vouchers).first()
    if voucher is None:
        raise ServiceError(
            "voucher_not_found", _("None of your benefits has this voucher."), status_code=404
        )
    record.user_id = voucher.user_id
    record.purpose = voucher.benefit.title_zh
    return voucher


def voucher_answer(voucher: Voucher) -> dict:
    return {
        "code": voucher.code,
        "benefit": voucher.benefit_id,
        "valid": voucher.is_valid(),
        "expires_at": voucher.expires_at,
        "redeemed_at": voucher.redeemed_at,
    }


def partner_voucher_verify(*, partner: Partner, api_key: PartnerApiKey | None, code: str) -> dict:
    with logged_call(
        partner=partner, api_key=api_key, kind=PartnerQuery.Kind.VOUCHER_VERIFY
    ) as record:
        voucher = _voucher(record, code)
        record.fields_disclosed = ["voucher_status"]
        return voucher_answer(voucher)


def partner_voucher_redeem(*, partner: Partner, api_key: PartnerApiKey | None, code: str) -> dict:
    """Redeem a voucher once: the row is locked, so two redemptions at once give one."""
    with (
        logged_call(
            partner=partner, api_key=api_key, kind=PartnerQuery.Kind.VOUCHER_REDEEM
        ) as record,
        transaction.atomic(),
    ):
        voucher = _voucher(record, code, lock=True)
        if voucher.redeemed_at is not None:
            raise ServiceError(
                "already_redeemed", _("This voucher was already used."), status_code=409
            )
        now = timezone.now()
        if voucher.expires_at <= now:
            raise ServiceError("voucher_expired", _("This voucher has expired."), status_code=410)
        voucher.redeemed_at = now
        voucher.save(update_fields=["redeemed_at"])
        record.fields_disclosed = ["voucher_status"]
        return voucher_answer(voucher)


# --- Identity check ---------------------------------------------------------------------------


def _identity_check_refusal(
    authorization: PartnerAuthorization, today: datetime.date
) -> ServiceError | None:
    if authorization.identity_mismatches >= IDENTITY_MISMATCHES_MAX:
        return ServiceError(
            "identity_check_stopped",
            _("Identity checks on this authorisation stopped after repeated mismatches."),
            status_code=403,
        )
    if (
        authorization.identity_checks_on == today
        and authorization.identity_checks_that_day >= IDENTITY_CHECKS_PER_DAY
    ):
        local = timezone.localtime()
        midnight = (local + datetime.timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        return ServiceError(
            "identity_check_limit",
            _("This authorisation's identity checks for today are used up."),
            status_code=429,
            retry_after=int((midnight - local).total_seconds()) + 1,
        )
    return None


def partner_identity_check(
    *,
    partner: Partner,
    api_key: PartnerApiKey | None,
    token: str,
    full_name: str,
    id_number: str,
) -> dict:
    """Do this name and ID number belong to the person of this authorisation? Yes or
    no, and nothing else: the same "no" for a wrong name, another person's number or a
    malformed one. Only an authorisation whose person ticked identity checks allows it,
    a few times a day, and none after repeated mismatches (which flag the partner)."""
    with (
        logged_call(
            partner=partner, api_key=api_key, kind=PartnerQuery.Kind.IDENTITY_CHECK
        ) as record,
        transaction.atomic(),
    ):
        authorization = _authorization(record, token, disclosure=IDENTITY_CHECK)
        grant = authorization.grant
        today = timezone.localdate()
        refusal = _identity_check_refusal(authorization, today)
        if refusal is not None:
            raise refusal
        number, name = normalise_id_number(id_number), normalise_name(full_name)
        identity = Identity.objects.filter(user_id=grant.user_id).first()
        match = (
            identity is not None
            and number is not None
            and identity.id_number_hash == keyed_hash(number)
            and identity_full_name(identity) == name
        )
        if authorization.identity_checks_on != today:
            authorization.identity_checks_on, authorization.identity_checks_that_day = today, 0
        authorization.identity_checks_that_day += 1
        authorization.identity_mismatches += 0 if match else 1
        PartnerAuthorization.objects.filter(pk=authorization.pk).update(
            identity_checks_on=authorization.identity_checks_on,
            identity_checks_that_day=authorization.identity_checks_that_day,
            identity_mismatches=authorization.identity_mismatches,
        )
        if not match and authorization.identity_mismatches == IDENTITY_MISMATCHES_MAX:
            identity_mismatches_flag(
                partner=partner,
                detail={
                    "authorization": authorization.prefix,
                    "mismatches": authorization.identity_mismatches,
                },
            )
        record.fields_disclosed = ["match"]
        record.detail = {"match": bool(match)}
        return {"match": bool(match)}


# --- Decisions ---------------------------------------------------------------------------------


def partner_decision(
    *,
    partner: Partner,
    api_key: PartnerApiKey | None,
    token: str,
    decision: str,
    reason_code: str,
    limit: int | None = None,
) -> dict:
    """Record the decision the partner took with this authorisation (shown to the
    person beside the queries). It ends an authorisation limited until one decision; a
    decision is still taken after the queries of a limited authorisation are used up."""
    with (
        logged_call(partner=partner, api_key=api_key, kind=PartnerQuery.Kind.DECISION) as record,
        transaction.atomic(),
    ):
        authorization = _authorization(record, token, disclosure=DECISION)
        detail = {"decision": decision, "reason_code": reason_code}
        if limit is not None:
            detail["limit"] = limit
        # The receipt beside the query it decides (one per query), and the person told.
        decision_receipt_record(
            authorization=authorization, outcome=decision, reason_code=reason_code, limit=limit
        )
        if authorization.use_limit == ConsentUseLimit.DECISION:
            consent_used_up(grant=authorization.grant)
        record.detail = detail
        record.status_code = 201
        return detail
