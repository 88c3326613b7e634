"""The benefits admin: partners (search, filters, approve or suspend with a reason),
benefits (who would qualify, publishing, validation), and CSV import and export."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.crypto import keyed_hash
from benefits.models import Benefit, BenefitCategory, Partner, PartnerStatusChange
from benefits.selectors import person_of, qualifying_preview
from scoring.models import CourtListEntry
from tests.dates import in_days
from tests.factories import grant_scoring, make_benefit, make_partner, make_user, set_score, verify

pytestmark = pytest.mark.django_db

PARTNERS = "/admin/benefits/partner/"
BENEFITS = "/admin/benefits/benefit/"


@pytest.fixture
def admin(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


def change_url(benefit: Benefit) -> str:
    return f"{BENEFITS}{benefit.pk}/change/"


def history_of(obj) -> list[str]:
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).values_list("change_message", flat=True)
    )


# --- Partners -------------------------------------------------------------------------------------


def test_the_partner_list_searches_and_filters(admin):
    bikes = make_partner("绿道单车 GreenLane Bikes")
    hotels = make_partner("悦途酒店 Joyway Hotels", category="hotel")
    lender = make_partner("快借数据 QuickLend Data", status=Partner.Status.PENDING, category="x")
    make_benefit(bikes, 600)

    def listed(**params) -> set[int]:
        response = admin.get(PARTNERS, params)
        assert response.status_code == 200
        return {p.pk for p in response.context["cl"].result_list}

    assert listed() == {bikes.pk, hotels.pk, lender.pk}
    assert listed(q="Joyway") == {hotels.pk}
    assert listed(q="MB-2024") == {bikes.pk, hotels.pk, lender.pk}
    assert listed(status__exact="pending") == {lender.pk}
    assert listed(category="hotel") == {hotels.pk}
    assert admin.get(f"{PARTNERS}{bikes.pk}/change/").status_code == 200


def test_bulk_approve_asks_for_a_reason_first(admin):
    pending = [make_partner(f"Pending {i}", status=Partner.Status.PENDING) for i in range(2)]

    response = admin.post(
        PARTNERS, {"action": "approve", "_selected_action": [p.pk for p in pending]}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="reason"' in html
    assert 'name="apply"' in html
    assert all(p.name in html for p in pending)
    assert set(Partner.objects.values_list("status", flat=True)) == {"pending"}
    assert not PartnerStatusChange.objects.exists()


def test_bulk_approve_with_a_reason_changes_the_status_and_records_who_and_why(admin, admin_user):
    pending = [make_partner(f"Pending {i}", status=Partner.Status.PENDING) for i in range(2)]
    untouched = make_partner("Still pending", status=Partner.Status.PENDING)

    response = admin.post(
        PARTNERS,
        {
            "action": "approve",
            "_selected_action": [p.pk for p in pending],
            "apply": "Confirm",
            "reason": "营业执照已核验",
        },
    )

    assert response.status_code == 302
    for partner in pending:
        partner.refresh_from_db()
        assert partner.status == Partner.Status.APPROVED
        assert partner.status_changed_by == admin_user
        change = partner.status_changes.get()
        assert (change.status_from, change.status_to) == ("pending", "approved")
        assert (change.reason, change.changed_by) == ("营业执照已核验", admin_user)
        assert any("营业执照已核验" in message for message in history_of(partner))
    untouched.refresh_from_db()
    assert untouched.status == Partner.Status.PENDING


@pytest.mark.parametrize("reason", ["", "   "])
def test_bulk_suspend_without_a_reason_is_refused(admin, reason):
    partner = make_partner()

    response = admin.post(
        PARTNERS,
        {
            "action": "suspend",
            "_selected_action": [partner.pk],
            "apply": "Confirm",
            "reason": reason,
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    partner.refresh_from_db()
    assert partner.status == Partner.Status.APPROVED
    assert not PartnerStatusChange.objects.exists()


def test_the_status_cannot_be_edited_on_the_change_form(admin):
    partner = make_partner(status=Partner.Status.PENDING)

    response = admin.post(
        f"{PARTNERS}{partner.pk}/change/",
        {
            "name": partner.name,
            "category": partner.category,
            "licence_number": "",
            "status": "approved",
            "rate_limit_per_minute": 120,
            "daily_quota": 20000,
            "benefits-TOTAL_FORMS": 0,
            "benefits-INITIAL_FORMS": 0,
            "api_keys-TOTAL_FORMS": 0,
            "api_keys-INITIAL_FORMS": 0,
            "status_changes-TOTAL_FORMS": 0,
            "status_changes-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.status == Partner.Status.PENDING


# --- Benefits: who would qualify, publishing ------------------------------------------------------


@pytest.fixture
def scored_people(model_version):
    """Consenting people scored 560 (700 before), 620 (capacity 60), 720 (capacity 30,
    verified adult) and a court-listed 900; and a person scored 800 who does not consent."""
    people = {}
    for name, score, dimensions in [
        ("a", 560, {}),
        ("b", 620, {"capacity": 60}),
        ("c", 720, {"capacity": 30}),
        ("listed", 900, {"capacity": 90}),
        ("gone", 800, {"capacity": 90}),
    ]:
        user = make_user(name)
        if name != "gone":
            grant_scoring(user)
        if name == "a":
            set_score(user, 700, model_version=model_version, at=in_days(-3))
        set_score(user, score, dimensions, model_version=model_version)
        people[name] = user
    verify(people["c"])
    number = verify(people["listed"])
    CourtListEntry.objects.create(id_number_hash=keyed_hash(number))
    return people


def test_the_preview_counts_who_would_qualify_by_the_same_rules(scored_people, partner):
    offer = make_benefit(partner, 600, status=Benefit.Status.DRAFT)

    preview = qualifying_preview(benefit=offer, thresholds=[550, 700, 750])

    assert preview.scored == 4
    assert preview.qualifying == 2
    assert preview.by_threshold == [(550, 3), (600, 2), (700, 1), (750, 0)]


def test_the_preview_applies_sub_score_and_age_rules(scored_people, partner):
    capable = make_benefit(partner, 600, min_subscores={"capacity": 50})
    adults = make_benefit(partner, 600, min_age=18)

    assert qualifying_preview(benefit=capable).qualifying == 1  # b; c is short, a is low
    assert qualifying_preview(benefit=adults).qualifying == 1  # only c has a birth date
    # Below the benefit's own minimum, the other rules still hold: a (560) has neither.
    assert qualifying_preview(benefit=capable, thresholds=[550]).by_threshold == [
        (550, 1),
        (600, 1),
    ]
    assert qualifying_preview(benefit=adults, thresholds=[550]).by_threshold == [(550, 1), (600, 1)]


def test_the_preview_judges_the_same_latest_snapshot_as_the_catalogue(
    owner, partner, model_version
):
    offer = make_benefit(partner, 600, status=Benefit.Status.DRAFT)
    grant_scoring(owner)
    set_score(owner, 700, model_version=model_version)
    set_score(owner, 500, model_version=model_version, at=in_days(-0.01))  # stored later

    assert person_of(owner).score == 700  # what the catalogue and claims go by
    assert qualifying_preview(benefit=offer).qualifying == 1


def test_the_change_page_shows_how_many_would_qualify(admin, scored_people, partner):
    offer = make_benefit(partner, 600, status=Benefit.Status.DRAFT)

    response = admin.get(change_url(offer))

    html = response.content.decode()
    assert response.status_code == 200
    assert "2 of 4 people with a score would qualify at 600." in html
    assert "Would qualify" in html
    assert 'name="_publish"' in html


def test_the_add_page_asks_to_save_before_previewing(admin, partner):
    response = admin.get(f"{BENEFITS}add/")

    assert response.status_code == 200
    assert "Save the benefit to see how many people would qualify." in response.content.decode()


def form_data(benefit: Benefit | None = None, partner: Partner | None = None, **overrides):
    """The benefit form as an admin fills it in."""
    data = {
        "partner": (benefit.partner_id if benefit else partner.pk),
        "category": BenefitCategory.CAR_RENTAL,
        "title_zh": "免押金租车",
        "title_en": "Deposit-free car rental",
        "terms_zh": "需持有效驾驶证。",
        "terms_en": "A valid driving licence is required.",
        "min_score": 650,
        "min_subscores": '{"capacity": 40}',
        "min_age": 18,
        "regions": '["31", "4403"]',
        "active_from_0": "2026-11-01",
        "active_from_1": "00:00:00",
        "active_to_0": "2027-11-01",
        "active_to_1": "00:00:00",
        "quota": 200,
        "voucher_days": 30,
    }
    data.update(overrides)
    return data


def test_save_and_publish_publishes_and_records_who(admin, admin_user, partner):
    draft = make_benefit(partner, 600, status=Benefit.Status.DRAFT)

    response = admin.post(change_url(draft), {**form_data(draft), "_publish": "1"})

    assert response.status_code == 302
    assert response["Location"] == change_url(draft)
    draft.refresh_from_db()
    assert draft.status == Benefit.Status.PUBLISHED
    assert draft.published_by == admin_user
    assert draft.published_at is not None
    assert draft.min_score == 650
    assert draft.min_subscores == {"capacity": 40}
    assert draft.regions == ["31", "4403"]
    assert history_of(draft)


def test_save_and_return_to_draft_takes_it_off_offer(admin, partner):
    offer = make_benefit(partner, 600)

    admin.post(change_url(offer), {**form_data(offer), "_unpublish": "1"})

    offer.refresh_from_db()
    assert offer.status == Benefit.Status.DRAFT


def test_a_new_benefit_is_saved_as_a_draft(admin, partner):
    response = admin.post(f"{BENEFITS}add/", form_data(partner=partner, status="published"))

    assert response.status_code == 302
    created = Benefit.objects.get()
    assert created.status == Benefit.Status.DRAFT
    assert created.published_at is None


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("min_score", {"min_score": 349}),
        ("min_score", {"min_score": 951}),
        ("min_score", {"min_score": ""}),
        ("active_to", {"active_to_0": "2026-10-01", "active_to_1": "00:00:00"}),
        ("active_to", {"active_to_0": "2026-11-01", "active_to_1": "00:00:00"}),
        ("min_subscores", {"min_subscores": '{"nope": 10}'}),
        ("min_subscores", {"min_subscores": '{"capacity": 101}'}),
        ("min_subscores", {"min_subscores": '{"capacity": -1}'}),
        ("min_subscores", {"min_subscores": '{"capacity": 40.5}'}),
        ("min_subscores", {"min_subscores": '{"capacity": true}'}),
        ("min_subscores", {"min_subscores": "[40]"}),
        ("min_subscores", {"min_subscores": "{capacity: 40"}),
        ("regions", {"regions": '["1"]'}),
        ("regions", {"regions": '["01"]'}),
        ("regions", {"regions": '["31010"]'}),
        ("regions", {"regions": '["3101011"]'}),
        ("regions", {"regions": "[31]"}),
        ("regions", {"regions": '"31"'}),
        ("regions", {"regions": '["shanghai"]'}),
        ("min_age", {"min_age": 15}),
        ("voucher_days", {"voucher_days": 0}),
    ],
)
def test_the_benefit_form_refuses_bad_rules_with_a_message(admin, partner, field, overrides):
    response = admin.post(f"{BENEFITS}add/", form_data(partner=partner, **overrides))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert all(str(message).strip() for message in errors[field])
    assert "errornote" in response.content.decode()
    assert not Benefit.objects.exists()


def test_the_benefit_list_filters_and_searches(admin, partner):
    draft = make_benefit(partner, 600, status=Benefit.Status.DRAFT, title_en="Draft bikes")
    hotel = make_benefit(
        make_partner("悦途酒店 Joyway Hotels"), 650, category="hotel", title_en="Credit stay"
    )

    def listed(**params) -> set[int]:
        response = admin.get(BENEFITS, params)
        assert response.status_code == 200
        return {b.pk for b in response.context["cl"].result_list}

    assert listed() == {draft.pk, hotel.pk}
    assert listed(status__exact="draft") == {draft.pk}
    assert listed(category__exact="hotel") == {hotel.pk}
    assert listed(q="Joyway") == {hotel.pk}
    assert listed(q="Credit stay") == {hotel.pk}


# --- CSV import and export ------------------------------------------------------------------------

BENEFIT_COLUMNS = [
    "id",
    "partner",
    "title_zh",
    "title_en",
    "category",
    "min_score",
    "min_subscores",
    "min_age",
    "regions",
    "quota",
    "voucher_days",
    "status",
]


def benefits_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=BENEFIT_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                "id": "",
                "min_subscores": "",
                "min_age": "",
                "regions": "",
                "quota": "",
                "voucher_days": 30,
                "status": "published",  # a file cannot publish: it is ignored
                **row,
            }
        )
    return out.getvalue().encode()


def csv_format(admin, url: str) -> str:
    form = admin.get(url).context["form"]
    return next(value for value, label in form.fields["format"].choices if label == "csv")


def import_step_one(admin, content: bytes, url: str = f"{BENEFITS}import/"):
    return admin.post(
        url,
        {
            "resource": "0",
            "format": csv_format(admin, url),
            "import_file": SimpleUploadedFile("benefits.csv", content, "text/csv"),
        },
    )


def row(partner: Partner, **values) -> dict:
    return {
        "partner": partner.name,
        "title_zh": "公共自行车免押金",
        "title_en": "Deposit-free public bikes",
        "category": "bike_rental",
        "min_score": 600,
        **values,
    }


def test_importing_benefits_from_csv_creates_drafts_after_confirming(admin, partner):
    content = benefits_csv(
        [
            row(partner),
            row(
                partner,
                title_en="Deposit-free cars",
                category="car_rental",
                min_score=650,
                min_subscores='{"capacity": 40}',
                min_age=18,
                regions='["31", "4403"]',
                quota=200,
            ),
        ]
    )

    preview = import_step_one(admin, content)

    assert preview.status_code == 200
    confirm = preview.context["confirm_form"]
    assert not Benefit.objects.exists()  # the first step is a dry run

    done = admin.post(f"{BENEFITS}process_import/", confirm.initial)

    assert done.status_code == 302
    imported = {b.title_en: b for b in Benefit.objects.all()}
    assert set(imported) == {"Deposit-free public bikes", "Deposit-free cars"}
    assert {b.status for b in imported.values()} == {Benefit.Status.DRAFT}
    cars = imported["Deposit-free cars"]
    assert (cars.min_score, cars.min_age, cars.quota) == (650, 18, 200)
    assert cars.min_subscores == {"capacity": 40}
    assert cars.regions == ["31", "4403"]
    assert imported["Deposit-free public bikes"].regions == []
    assert imported["Deposit-free public bikes"].min_subscores == {}


def test_importing_broken_rows_reports_them_and_imports_nothing(admin, partner):
    content = benefits_csv(
        [
            row(partner),
            row(partner, min_score=349),
            row(partner, min_subscores='{"nope": 10}'),
            row(partner, regions='["1"]'),
            row(partner, min_subscores="{not json"),
            row(partner, category="spaceships"),
        ]
    )

    response = import_step_one(admin, content)

    html = response.content.decode()
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    result = response.context["result"]
    assert [r.number for r in result.invalid_rows] == [2, 3, 4, 5, 6]
    assert "is not a dimension" in html
    assert "region codes of 2, 4 or 6 digits" in html
    assert not Benefit.objects.exists()


def test_importing_a_row_for_an_unknown_partner_reports_it_without_a_server_error(admin, partner):
    response = import_step_one(admin, benefits_csv([{**row(partner), "partner": "Nobody Ltd"}]))

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert (
        response.context["result"].has_errors()
        or response.context["result"].has_validation_errors()
    )
    assert not Benefit.objects.exists()


def test_exporting_benefits_gives_a_csv_of_every_benefit(admin, partner):
    make_benefit(partner, 600, title_en="Deposit-free public bikes", regions=["31"])
    make_benefit(partner, 700, status=Benefit.Status.DRAFT, min_subscores={"capacity": 40})
    url = f"{BENEFITS}export/"

    response = admin.post(url, {"resource": "0", "format": csv_format(admin, url)})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert set(BENEFIT_COLUMNS) <= set(rows[0])
    assert {r["partner"] for r in rows} == {partner.name}
    assert {r["status"] for r in rows} == {"published", "draft"}


def test_exporting_partners_gives_a_csv(admin, partner):
    url = f"{PARTNERS}export/"

    response = admin.post(url, {"resource": "0", "format": csv_format(admin, url)})

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["name"], r["status"]) for r in rows] == [(partner.name, "approved")]


def test_importing_new_partners_puts_them_in_review(admin):
    url = f"{PARTNERS}import/"
    content = b"id,name,category,licence_number,status\n,New Bikes,bike_rental,MB-1,approved\n"

    preview = import_step_one(admin, content, url)
    admin.post(f"{PARTNERS}process_import/", preview.context["confirm_form"].initial)

    assert Partner.objects.get().status == Partner.Status.PENDING


def test_a_csv_cannot_change_an_existing_partners_qualification(admin):
    pending = make_partner(status=Partner.Status.PENDING)
    url = f"{PARTNERS}import/"
    content = (
        "id,name,category,licence_number,status\n"
        f"{pending.pk},{pending.name},{pending.category},{pending.licence_number},approved\n"
    ).encode()

    preview = import_step_one(admin, content, url)
    admin.post(f"{PARTNERS}process_import/", preview.context["confirm_form"].initial)

    pending.refresh_from_db()
    assert pending.status == Partner.Status.PENDING


def test_a_csv_cannot_publish_an_existing_draft(admin, partner):
    draft = make_benefit(partner, 600, status=Benefit.Status.DRAFT)

    preview = import_step_one(admin, benefits_csv([row(partner, id=draft.pk)]))
    admin.post(f"{BENEFITS}process_import/", preview.context["confirm_form"].initial)

    draft.refresh_from_db()
    assert draft.status == Benefit.Status.DRAFT
