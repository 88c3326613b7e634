"""Reads for benefits: what is on offer, who qualifies, a user's vouchers, and what a
person's authorisation of a partner allows (`authorisation_refusal`, consent_refusal's
answer for partner sharing)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, JSONField, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.crypto import birth_date_decrypt
from accounts.models import ConsentGrant, ConsentPurpose, ConsentRevocation, Identity, User
from accounts.selectors import (
    NO_GRANT,
    consent_grants_for_user,
    consent_refusal,
    users_consenting_to_scoring,
)
from benefits.eligibility import BLOCK_SCORE, Eligibility, Person, eligibility_of
from benefits.models import (
    Benefit,
    ConsentScope,
    ConsentUseLimit,
    ErasureRequest,
    Goal,
    Partner,
    PartnerAuthorization,
    PartnerQuery,
    Voucher,
)
from scoring.models import ScoreSnapshot
from scoring.selectors import (
    court_listed_at,
    personal_statement_of,
    score_usable,
    snapshots_latest_first,
)
from scoring.services.outlook import Outlook, score_outlook
from sesame_portal.bulk import ids_lookup
from sesame_portal.prepared import PreparedQuery

# What each partner scope discloses; a call asking for a disclosure must be covered. A
# score also tells whether the person qualifies for a benefit and how far they are from it,
# and comes with the person's personal statement (本人声明), when they wrote one.
SCOPE_DISCLOSES = {
    ConsentScope.SCORE: {"score", "personal_statement", "eligibility", "points_away"},
    ConsentScope.SCORE_AND_SUBSCORES: {
        "score",
        "personal_statement",
        "subscores",
        "eligibility",
        "points_away",
    },
    ConsentScope.ELIGIBILITY: {"eligibility"},
}
# What a partner may ask beyond a scope: an identity check (the person's own tick) and
# reporting its decision (any authorisation, even one whose queries are used up).
IDENTITY_CHECK = "identity_check"
DECISION = "decision"
# Why authorisation_refusal refuses, besides consent_refusal's reasons.
PARTNER_NOT_APPROVED = "partner_not_approved"
OUT_OF_SCOPE = "out_of_scope"


def authorisation_refusal(
    *,
    authorization: PartnerAuthorization | None = None,
    user: User | None = None,
    partner: Partner | None = None,
    disclosure: str | None = None,
    benefit_id: int | None = None,
    at: datetime.datetime | None = None,
) -> str | None:
    """Why this may not be shared with this partner now, or None when it may: the answer
    to consent_refusal's question for partner sharing. The grant's part (revoked,
    expired, the account deleted) is consent_refusal's; this adds the partner's: while it
    is approved, and the disclosure covered by the authorisation's scope and terms.

    Given an authorisation (a partner's call, with its grant and the grant's revocation
    read under the call's lock): whether it does, and if not why: consent_refusal's
    reason, PARTNER_NOT_APPROVED or OUT_OF_SCOPE. Given a user and a partner: whether a
    current authorisation of theirs does. `benefit_id`: the benefit an eligibility
    disclosure is about (an eligibility-only authorisation may name one)."""
    at = at or timezone.now()
    if authorization is not None:
        return _authorisation_refusal(authorization, disclosure, benefit_id, at)
    if user is None or not user.pk or partner is None:
        return NO_GRANT
    current = ConsentGrant.objects.current(at).filter(
        user=user, purpose=ConsentPurpose.PARTNER_SHARING
    )
    # The partner's status is read from the database, not from the caller's object, so a
    # suspension takes effect at the very next check.
    authorizations = (
        PartnerAuthorization.objects.filter(grant__in=current, partner_id=partner.pk)
        .select_related("partner", "grant", "grant__revocation")
        .order_by("-grant__granted_at", "-grant_id")
    )
    refusals = [_authorisation_refusal(each, disclosure, benefit_id, at) for each in authorizations]
    return None if None in refusals else (refusals[0] if refusals else NO_GRANT)


def _authorisation_refusal(
    authorization: PartnerAuthorization,
    disclosure: str | None,
    benefit_id: int | None,
    at: datetime.datetime,
) -> str | None:
    # A decision still follows the queries of an authorisation limited in queries.
    despite = (
        (ConsentRevocation.Reason.USED_UP,)
        if disclosure == DECISION and authorization.use_limit == ConsentUseLimit.QUERIES
        else ()
    )
    refusal = consent_refusal(
        purpose=ConsentPurpose.PARTNER_SHARING, grant=authorization.grant, at=at, despite=despite
    )
    if refusal is not None:
        return refusal
    if authorization.partner.status != Partner.Status.APPROVED:
        return PARTNER_NOT_APPROVED
    if disclosure == IDENTITY_CHECK:
        covered = authorization.identity_check
    else:
        covered = disclosure in (None, DECISION) or disclosure in SCOPE_DISCLOSES.get(
            authorization.scope, ()
        )
    if covered and benefit_id is not None and authorization.scope == ConsentScope.ELIGIBILITY:
        covered = authorization.benefit_id in (None, benefit_id)
    return None if covered else OUT_OF_SCOPE


def authorisation_allows(**question) -> bool:
    """Yes or no to "may this be shared with this partner now?" (authorisation_refusal)."""
    return authorisation_refusal(**question) is None


def _authorisations_with_score(*, prefix: str, at: datetime.datetime):
    person = OuterRef("grant__user_id")
    # The latest snapshot as score_latest_summary picks it: its score, band, time and
    # sub-scores (a compact row: the sub-scores are five numbers).
    latest = snapshots_latest_first(person)
    return (
        PartnerAuthorization.objects.select_related("partner", "grant", "grant__revocation")
        .filter(prefix=prefix)
        .annotate(
            scoring_consent=Exists(users_consenting_to_scoring(at=at).filter(user_id=person)),
            latest_score_value=Subquery(latest.values("score")[:1]),
            latest_band=Subquery(latest.values("band")[:1]),
            latest_computed_at=Subquery(latest.values("computed_at")[:1]),
            latest_dimensions=Subquery(latest.values("dimensions")[:1]),
            latest_statement=Subquery(personal_statement_of(user_id=person).values("text")[:1]),
        )
        .order_by("pk")
    )


# Built once per process (the query costs more to build than to run).
_authorisation_with_score = PreparedQuery(
    _authorisations_with_score, prefix=str, at=datetime.datetime
)


def authorisation_with_score(*, prefix: str, at: datetime.datetime) -> PartnerAuthorization | None:
    """The authorisation of this token id, read for a score query in one statement: with
    its partner, grant and the grant's revocation (what authorisation_refusal judges),
    `scoring_consent` (whether the person consents to scoring at `at`, as
    users_consenting_to_scoring answers it) and `latest_score` (the person's latest
    snapshot as score_latest_summary reads it: its score, band, time and sub-scores;
    None without one) and `latest_statement` (the person's personal statement; None
    without one)."""
    found = _authorisation_with_score.first(prefix=prefix, at=at)
    if found is not None:
        found.latest_score = (
            None
            if found.latest_score_value is None
            else ScoreSnapshot(
                user_id=found.grant.user_id,
                score=found.latest_score_value,
                band=found.latest_band,
                computed_at=found.latest_computed_at,
                dimensions=found.latest_dimensions,
            )
        )
    return found


def consent_grants_with_partners(*, user: User) -> QuerySet[ConsentGrant]:
    """The user's consent grants (consent_grants_for_user), each sharing grant with its
    authorisation: the partner and the terms. A grant that shares with no partner has
    none (reading `grant.authorization` raises; templates read it as empty)."""
    return consent_grants_for_user(user=user).select_related(
        "authorization", "authorization__partner", "authorization__benefit"
    )


# The export's partner terms of a grant that shares with no partner.
NO_PARTNER_TERMS = {
    "partner": None,
    "scope": "",
    "stated_purpose": "",
    "identity_check": False,
    "use_limit": "",
    "max_queries": None,
}


def partner_terms_by_grant(*, user: User) -> dict[int, dict]:
    """For "download my data": the partner and terms of each of the user's sharing
    grants, by grant id, in the shape of NO_PARTNER_TERMS."""
    rows = PartnerAuthorization.objects.filter(grant__user=user).values(
        "grant_id", "partner__name", *list(NO_PARTNER_TERMS)[1:]
    )
    return {row.pop("grant_id"): {"partner": row.pop("partner__name"), **row} for row in rows}


def benefits_offered(
    *, now: datetime.datetime | None = None, category: str | None = None
) -> QuerySet[Benefit]:
    """Published benefits of approved partners inside their active window."""
    now = now or timezone.now()
    offered = Benefit.objects.filter(
        status=Benefit.Status.PUBLISHED,
        partner__status=Partner.Status.APPROVED,
        active_from__lte=now,
    ).filter(Q(active_to__isnull=True) | Q(active_to__gt=now))
    if category:
        offered = offered.filter(category=category)
    return offered.select_related("partner").order_by("min_score", "id")


def people_for(scores: list[tuple[int, int | None, dict]]) -> list[Person]:
    """Persons for (user id, score, sub-scores) rows, with their age, region and court
    list status: one query, whatever the number of rows."""
    user_ids = sorted({user_id for user_id, _score, _dims in scores})
    identities = {
        user_id: (birth_date_decrypt(birth_date), region_code, on_list)
        for user_id, birth_date, region_code, on_list in Identity.objects.filter(
            **ids_lookup(user_ids)
        )
        .annotate(on_list=court_listed_at("id_number_hash"))
        .values_list("user_id", "birth_date_encrypted", "region_code", "on_list")
    }
    people = []
    for user_id, score, dimensions in scores:
        birth_date, region_code, on_list = identities.get(user_id, (None, "", False))
        people.append(
            Person(
                user_id=user_id,
                score=score,
                dimensions=dimensions or {},
                birth_date=birth_date,
                region_code=region_code,
                court_listed=on_list,
            )
        )
    return people


def person_from(
    *,
    user_id: int,
    score: int | None,
    dimensions: dict | None,
    birth_date_encrypted: str | None,
    region_code: str,
    court_listed: bool,
) -> Person:
    """The Person people_for would give, from an identity's columns read elsewhere (the
    score home reads them with everything else it shows, in one query)."""
    return Person(
        user_id=user_id,
        score=score,
        dimensions=dimensions or {},
        birth_date=birth_date_decrypt(birth_date_encrypted) if birth_date_encrypted else None,
        region_code=region_code or "",
        court_listed=court_listed,
    )


def person_with(*, user_id: int, snapshot: ScoreSnapshot | None) -> Person:
    """The user as eligibility sees them with this score (None: no score may be used)."""
    if snapshot is None:
        return people_for([(user_id, None, {})])[0]
    return people_for([(user_id, snapshot.score, snapshot.dimensions)])[0]


def person_of(user: User) -> Person:
    """The user as eligibility sees them: their latest score only while they consent."""
    return person_with(user_id=user.pk, snapshot=score_usable(user=user))


@dataclass(frozen=True)
class CatalogueEntry:
    benefit: Benefit
    eligibility: Eligibility
    voucher: Voucher | None  # the user's valid voucher for it, if any
    claimed_out: bool  # quota reached for everyone


def catalogue_for_user(
    *,
    user: User,
    category: str | None = None,
    now: datetime.datetime | None = None,
    person: Person | None = None,
) -> tuple[Person, list[CatalogueEntry]]:
    """The catalogue as this user sees it: unlocked first (lowest threshold first), then
    the rest, nearest first. A fixed number of queries, whatever the catalogue's size.
    A caller that already read the user's score passes `person` (see `person_of`)."""
    now = now or timezone.now()
    person = person or person_of(user)
    benefits = list(
        benefits_offered(now=now, category=category).annotate(
            outstanding=Count(
                "vouchers",
                filter=Q(vouchers__redeemed_at__isnull=False) | Q(vouchers__expires_at__gt=now),
            )
        )
    )
    mine = {
        voucher.benefit_id: voucher
        for voucher in Voucher.objects.filter(
            user=user, redeemed_at__isnull=True, expires_at__gt=now
        ).order_by("issued_at")
    }
    today = timezone.localdate(now)
    entries = [
        CatalogueEntry(
            benefit=benefit,
            eligibility=eligibility_of(person, benefit, today=today),
            voucher=mine.get(benefit.pk),
            claimed_out=benefit.quota is not None and benefit.outstanding >= benefit.quota,
        )
        for benefit in benefits
    ]
    entries.sort(key=catalogue_order)
    return person, entries


def catalogue_order(entry: CatalogueEntry | BenefitNext) -> tuple:
    """Unlocked first (lowest threshold first), then the rest, nearest first."""
    return (
        not entry.eligibility.unlocked,
        entry.eligibility.points_away or 0,
        entry.benefit.min_score,
        entry.benefit.pk,
    )


# What the score home needs of an offered benefit: its rules (eligibility_of) and title.
BENEFIT_PROGRESS_FIELDS = (
    "id",
    "title_zh",
    "title_en",
    "min_score",
    "min_subscores",
    "min_age",
    "regions",
)
BENEFITS_OFFERED = PreparedQuery(
    lambda now: benefits_offered(now=now).values(*BENEFIT_PROGRESS_FIELDS), now=datetime.datetime
)


@dataclass(frozen=True)
class BenefitNext:
    benefit: Benefit  # only its BENEFIT_PROGRESS_FIELDS are read
    eligibility: Eligibility


@dataclass(frozen=True)
class BenefitProgress:
    unlocked: int  # how many offered benefits the person has unlocked
    next: BenefitNext | None  # the nearest locked one a higher score would unlock


def benefit_progress(*, person: Person, now: datetime.datetime) -> BenefitProgress:
    """How far the person is from the catalogue (the score home's line): judged on
    every offered benefit as the catalogue judges it, read at every call (one query), so
    a benefit an admin adds or changes counts at once."""
    today = timezone.localdate(now)
    entries = sorted(
        (
            BenefitNext(benefit=benefit, eligibility=eligibility_of(person, benefit, today=today))
            for benefit in (Benefit(**row) for row in BENEFITS_OFFERED.rows(now=now))
        ),
        key=catalogue_order,
    )
    locked = [entry for entry in entries if not entry.eligibility.unlocked]
    return BenefitProgress(
        unlocked=len(entries) - len(locked),
        next=next((entry for entry in locked if entry.eligibility.points_away), None),
    )


def vouchers_for_user(*, user: User) -> QuerySet[Voucher]:
    return Voucher.objects.filter(user=user).select_related("benefit", "benefit__partner")


def voucher_for_user(*, user: User, code: str) -> Voucher | None:
    return vouchers_for_user(user=user).filter(code=code).first()


PREVIEW_CHUNK = 2000


@dataclass(frozen=True)
class QualifyingPreview:
    scored: int  # consenting users with a score
    qualifying: int  # of them, how many the benefit would unlock at its own minimum
    by_threshold: list[tuple[int, int]]  # (minimum score, how many would qualify)


def qualifying_preview(
    *, benefit: Benefit, thresholds: list[int] | None = None
) -> QualifyingPreview:
    """How many people the benefit would unlock now, at its minimum score and at other
    thresholds, judged on each consenting user's latest snapshot by the same rules as
    everywhere else (the admin's preview before publishing). Reads the snapshots in
    chunks, so memory stays flat."""
    today = timezone.localdate()
    thresholds = sorted(set(thresholds or []) | {benefit.min_score})
    consenting = sorted(set(users_consenting_to_scoring()))
    # Each user's latest snapshot as score_latest picks it (by computed_at, then id).
    latest = snapshots_latest_first(OuterRef("pk"))
    # Judge everything but the score once (of people at the lowest threshold or above);
    # then count by score.
    lowest = min(thresholds)
    scored = 0
    passing_scores: list[int] = []
    for start in range(0, len(consenting), PREVIEW_CHUNK):
        rows = list(
            User.objects.filter(pk__in=consenting[start : start + PREVIEW_CHUNK])
            .annotate(
                latest_score=Subquery(latest.values("score")[:1]),
                latest_dimensions=Subquery(
                    latest.values("dimensions")[:1], output_field=JSONField()
                ),
            )
            .filter(latest_score__isnull=False)
            .values_list("pk", "latest_score", "latest_dimensions")
        )
        scored += len(rows)
        people = people_for([row for row in rows if row[1] >= lowest])
        passing_scores += [
            person.score
            for person in people
            if set(eligibility_of(person, benefit, today=today).blocked_by) <= {BLOCK_SCORE}
        ]
    counts = [(t, sum(1 for score in passing_scores if score >= t)) for t in thresholds]
    return QualifyingPreview(
        scored=scored,
        qualifying=dict(counts)[benefit.min_score],
        by_threshold=counts,
    )


def queries_for_user(*, user: User, limit: int = 200) -> QuerySet[PartnerQuery]:
    """Who checked my score: every partner call about me, newest first."""
    return (
        PartnerQuery.objects.filter(user=user)
        .select_related("partner", "authorization__grant", "authorization__benefit")
        .order_by("-created_at", "-id")[:limit]
    )


# --- What each partner knows about me -----------------------------------------------------------

# A disclosure is a call the partner got an answer to that showed it something of the
# person's (a decision the partner reports shows it nothing).
DISCLOSURES_SHOWN = 200


def disclosures_for_user(*, user: User) -> QuerySet[PartnerQuery]:
    """Every call that disclosed something of the person to a partner: answered, and not
    the partner's own report of its decision."""
    return (
        PartnerQuery.objects.filter(user=user, outcome="ok")
        .exclude(kind=PartnerQuery.Kind.DECISION)
        .order_by("-created_at", "-id")
    )


def _known_to(user: User) -> Q:
    """Partners the person authorised (ever) or that received a disclosure of theirs."""
    partner = OuterRef("pk")
    return Q(Exists(PartnerAuthorization.objects.filter(grant__user=user, partner_id=partner))) | Q(
        Exists(disclosures_for_user(user=user).filter(partner_id=partner))
    )


@dataclass(frozen=True)
class PartnerSummary:
    partner: Partner
    disclosures: int
    last_disclosed_at: datetime.datetime | None
    authorised: bool  # an authorisation of the person's is current
    erasure_open: ErasureRequest | None


def partners_for_user(*, user: User, at: datetime.datetime | None = None) -> list[PartnerSummary]:
    """The partners that know something about the person (an authorisation, past or
    present, or a disclosure), by name: two queries however many."""
    at = at or timezone.now()
    mine = disclosures_for_user(user=user).filter(partner_id=OuterRef("pk")).order_by()
    partners = (
        Partner.objects.filter(_known_to(user))
        .annotate(
            disclosures_total=Subquery(
                mine.values("partner_id").annotate(n=Count("pk")).values("n")[:1]
            ),
            last_disclosed_at=Subquery(
                mine.order_by("-created_at", "-id").values("created_at")[:1]
            ),
            authorised_now=Exists(
                PartnerAuthorization.objects.filter(
                    partner_id=OuterRef("pk"),
                    grant__in=ConsentGrant.objects.current(at).filter(user=user),
                )
            ),
        )
        .order_by("name", "pk")
    )
    open_requests = {
        request.partner_id: request for request in ErasureRequest.objects.open().filter(user=user)
    }
    return [
        PartnerSummary(
            partner=partner,
            disclosures=partner.disclosures_total or 0,
            last_disclosed_at=partner.last_disclosed_at,
            authorised=partner.authorised_now,
            erasure_open=open_requests.get(partner.pk),
        )
        for partner in partners
    ]


def partner_known_to_user(*, user: User, partner_id: int) -> Partner | None:
    """The partner when it knows something about the person (partners_for_user's), else
    None: another partner's page is not found, like another person's."""
    if not user.pk:
        return None
    return Partner.objects.filter(_known_to(user), pk=partner_id).first()


@dataclass(frozen=True)
class PartnerKnowledge:
    """What one partner knows about the person: for their page and their API."""

    partner: Partner
    disclosures: list[PartnerQuery]  # newest first, at most DISCLOSURES_SHOWN
    disclosures_total: int
    grants: list[ConsentGrant]  # sharing grants with this partner, each with its terms
    erasure_requests: list[ErasureRequest]  # newest first
    erasure_open: ErasureRequest | None
    erasure_overdue: bool


def partner_knowledge(
    *, user: User, partner: Partner, at: datetime.datetime | None = None
) -> PartnerKnowledge:
    """Every disclosure to the partner, the authorisations past and present (with their
    status, purpose, scope and expiry) and the erasure requests: a fixed number of
    queries however long the history."""
    at = at or timezone.now()
    disclosed = disclosures_for_user(user=user).filter(partner=partner)
    requests = list(ErasureRequest.objects.filter(user=user, partner=partner))
    erasure_open = next((request for request in requests if not request.is_done), None)
    return PartnerKnowledge(
        partner=partner,
        disclosures=list(disclosed.select_related("authorization__benefit")[:DISCLOSURES_SHOWN]),
        disclosures_total=disclosed.count(),
        grants=list(
            consent_grants_with_partners(user=user).filter(
                purpose=ConsentPurpose.PARTNER_SHARING, authorization__partner=partner
            )
        ),
        erasure_requests=requests,
        erasure_open=erasure_open,
        erasure_overdue=erasure_open is not None and erasure_open.is_overdue(at),
    )


def erasure_requests_open_for_partner(*, partner: Partner) -> QuerySet[ErasureRequest]:
    """The partner's own open erasure requests, oldest first (what it must act on)."""
    return ErasureRequest.objects.open().filter(partner=partner).order_by("created_at", "id")


def benefits_export(*, user: User) -> dict:
    """benefits' part of "download my data": unlocks, vouchers, the partners' queries,
    the erasure requests made to partners and the goal."""
    return {
        "goal": goal_export(user=user),
        "benefit_unlocks": list(
            user.benefit_unlocks.order_by("unlocked_at", "id").values(
                "benefit_id",
                "benefit__title_zh",
                "benefit__title_en",
                "unlocked_at",
                "score_at_unlock",
                "locked_at",
                "score_at_lock",
            )
        ),
        "vouchers": list(
            user.vouchers.order_by("issued_at", "id").values(
                "code", "benefit_id", "benefit__title_zh", "issued_at", "expires_at", "redeemed_at"
            )
        ),
        "partner_queries": list(
            user.partner_queries.order_by("created_at", "id").values(
                "partner__name",
                "kind",
                "purpose",
                "fields_disclosed",
                "detail",
                "outcome",
                "created_at",
            )
        ),
        "erasure_requests": list(
            user.erasure_requests.order_by("created_at", "id").values(
                "partner__name",
                "created_at",
                "due_at",
                "done_at",
                "partner_note",
                "overdue_notified_at",
            )
        ),
    }


@dataclass(frozen=True)
class GoalPlan:
    """A goal with its dated plan (scoring.services.outlook.Outlook), computed on read
    from the latest score: it follows every new score without being stored."""

    goal: Goal
    score_needed: int
    outlook: Outlook
    reached: bool
    points_to_go: int | None  # None without a score
    expected_on: datetime.date | None  # the first month the estimate reaches the target
    benefit_on_offer: bool
    benefit_needs_more: bool  # the benefit asks more than a score (sub-scores, age, region)


def goal_for_user(*, user: User) -> Goal | None:
    return Goal.objects.filter(user=user).select_related("benefit__partner").first()


def goal_plan(*, user: User, today: datetime.date | None = None) -> GoalPlan | None:
    """The person's goal and its plan; None without a goal."""
    goal = goal_for_user(user=user)
    if goal is None:
        return None
    outlook = score_outlook(user=user, committed=goal.levers, today=today)
    needed = goal.score_needed
    score = outlook.score if outlook.available else None
    reached = score is not None and score >= needed
    expected_on = None
    if score is not None and not reached:
        expected_on = next((m.month for m in outlook.months if m.score >= needed), None)
    benefit = goal.benefit
    return GoalPlan(
        goal=goal,
        score_needed=needed,
        outlook=outlook,
        reached=reached,
        points_to_go=None if score is None else max(0, needed - score),
        expected_on=expected_on,
        benefit_on_offer=benefit is None or benefits_offered().filter(pk=benefit.pk).exists(),
        benefit_needs_more=benefit is not None
        and bool(benefit.min_subscores or benefit.min_age or benefit.regions),
    )


def goal_export(*, user: User) -> dict | None:
    """The goal as "download my data" holds it (the plan is computed, not held)."""
    return (
        Goal.objects.filter(user=user)
        .values(
            "benefit_id",
            "benefit__title_zh",
            "benefit__title_en",
            "target_score",
            "levers",
            "created_at",
            "updated_at",
            "reached_at",
        )
        .first()
    )


# --- Data use: the alerts' calls, and the authorisations that end soon ---------------------------


def queries_notified(*, notified: list[tuple[int, int]]) -> dict[int, PartnerQuery]:
    """The partner calls these (user id, query id) pairs name, with their partners, in one
    query, by id: only each user's own calls (a pair naming another's call finds none)."""
    pairs = set(notified)
    found = PartnerQuery.objects.select_related("partner").filter(
        pk__in={query_id for _user, query_id in pairs},
        user_id__in={user_id for user_id, _query in pairs},
    )
    return {query.pk: query for query in found if (query.user_id, query.pk) in pairs}


def authorizations_notified(*, notified: list[tuple[int, int]]) -> dict[int, PartnerAuthorization]:
    """The authorisations these (user id, authorisation id) pairs name, with their partner
    and grant, in one query, by id: only each user's own."""
    pairs = set(notified)
    found = PartnerAuthorization.objects.select_related("partner", "grant").filter(
        pk__in={authorization_id for _user, authorization_id in pairs},
        grant__user_id__in={user_id for user_id, _authorization in pairs},
    )
    return {a.pk: a for a in found if (a.grant.user_id, a.pk) in pairs}


def authorization_for_user(*, user: User, authorization_id: int) -> PartnerAuthorization | None:
    """The user's own authorisation of a partner, with its grant (and the grant's
    revocation), partner and benefit; None for another's or none."""
    return (
        PartnerAuthorization.objects.select_related(
            "grant", "grant__revocation", "partner", "benefit"
        )
        .filter(pk=authorization_id, grant__user=user)
        .first()
    )
