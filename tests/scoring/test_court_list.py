"""The court list of dishonest judgment debtors (失信被执行人): imported from CSV by the
command or the admin, kept only as keyed hashes, and blocking every benefit."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from accounts.crypto import keyed_hash
from accounts.models import User
from benefits.models import BenefitUnlock
from scoring.models import (
    CourtListEntry,
    CourtListImport,
    CourtListOverride,
    Dispute,
    PendingRecompute,
)
from scoring.selectors import is_court_listed
from scoring.services.disputes import dispute_file, dispute_transition
from tests.factories import (
    grant_scoring,
    id_number,
    rescore,
    verify,
)

# Granting consent or verifying queues a recompute after commit: recorded, not published.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("recompute_calls")]


# The list closes and blocks benefits: these tests watch that with the shared `partner`,
# `benefit` and `model_version` fixtures.

# Line 1 is the header. Numbers are typed as people type them: a lowercase x, spaces.
GOOD = [
    ("张三", "11010519900307005X", "11010519900307005x"),
    ("阿依古丽·买买提", "310101198506152222", " 3101011985 06152222 "),
]
BAD_CHECKSUM = "110105199003070051"
LEGACY = "110105900307005"
FUTURE = "110105209901010012"  # born 2099-01-01


def court_csv(header: str = "name,id_number") -> tuple[str, dict[int, str]]:
    """A court-list CSV with good rows and broken ones; returns it and the broken rows'
    line numbers with the error code each should get."""
    lines = [
        header,
        f"{GOOD[0][0]},{GOOD[0][2]}",  # 2
        f"李四,{BAD_CHECKSUM}",  # 3
        f"王五,{LEGACY}",  # 4
        "",  # 5: blank, skipped
        f"John Smith,{id_number()}",  # 6
        f'"{GOOD[1][0]}","{GOOD[1][2]}"',  # 7
        "赵六",  # 8: too few columns
        f"钱七,{FUTURE}",  # 9
        f"{GOOD[0][0]},{GOOD[0][1]}",  # 10: the same person again
    ]
    return "\n".join(lines) + "\n", {
        3: "checksum",
        4: "legacy_15_digit",
        6: "name",
        8: "columns",
        9: "birth_date",
    }


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "court.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run_import(path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_watchlist", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def stored_text() -> str:
    """Everything the court-list tables hold, as one text to search."""
    rows = list(CourtListEntry.objects.values()) + list(CourtListImport.objects.values())
    return json.dumps(rows, default=str, ensure_ascii=False)


def assert_no_plaintext(*texts: str) -> None:
    numbers = [g[1] for g in GOOD] + [BAD_CHECKSUM, LEGACY, FUTURE]
    for text in texts:
        for number in numbers:
            assert number not in text
            assert number[:17] not in text
            assert number.lower() not in text
        for name, *_ in GOOD:
            assert name not in text


# --- The command ------------------------------------------------------------------------------


def test_the_command_keeps_only_keyed_hashes_of_good_rows(tmp_path):
    text, _bad = court_csv()

    out, err = run_import(write(tmp_path, text))

    assert set(CourtListEntry.objects.values_list("id_number_hash", flat=True)) == {
        keyed_hash(number) for _name, number, _typed in GOOD
    }
    record = CourtListImport.objects.get()
    assert (record.rows_total, record.rows_added, record.rows_bad) == (8, 2, 5)
    assert record.file_name == "court.csv"
    assert set(CourtListEntry.objects.values_list("source", flat=True)) == {record.pk}
    assert "8 rows read: 2 people added" in out
    assert "1 already on it" in out
    assert "5 rows refused" in out
    assert_no_plaintext(stored_text(), out, err)


def test_the_command_reports_each_bad_row_by_line_number(tmp_path):
    text, bad = court_csv()

    _out, err = run_import(write(tmp_path, text))

    reported = [line for line in err.splitlines() if line.strip()]
    assert [int(line.split()[1].rstrip(":")) for line in reported] == sorted(bad)
    assert all(len(line.split(":", 1)[1].strip()) > 5 for line in reported)
    errors = CourtListImport.objects.get().errors
    assert {e["line"]: e["code"] for e in errors} == bad
    assert all(set(e) == {"line", "code", "message"} for e in errors)


def test_a_gb18030_file_with_chinese_headers_is_read(tmp_path):
    text, bad = court_csv(header="姓名,身份证号")

    _out, err = run_import(write(tmp_path, text, encoding="gb18030"))

    assert CourtListEntry.objects.count() == 2
    assert CourtListImport.objects.get().rows_bad == len(bad)
    assert "line 3:" in err


def test_a_utf8_file_with_a_byte_order_mark_and_extra_columns_is_read(tmp_path):
    number = GOOD[0][1]
    text = f"序号,姓名,身份证号码,案号\n1,{GOOD[0][0]},{number},(2024)京0105执123号\n"

    run_import(write(tmp_path, text, encoding="utf-8-sig"))

    assert list(CourtListEntry.objects.values_list("id_number_hash", flat=True)) == [
        keyed_hash(number)
    ]


def test_importing_the_same_list_again_adds_nobody(tmp_path):
    text, _bad = court_csv()
    path = write(tmp_path, text)
    run_import(path)

    out, _err = run_import(path)

    assert CourtListEntry.objects.count() == 2
    assert CourtListImport.objects.order_by("imported_at").last().rows_added == 0
    assert "0 people added" in out


def test_a_file_without_the_header_is_refused(tmp_path):
    path = write(tmp_path, f"{GOOD[0][0]},{GOOD[0][1]}\n")

    with pytest.raises(CommandError, match="name"):
        run_import(path)
    assert not CourtListEntry.objects.exists()
    assert not CourtListImport.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"name,id_number\n\x81\x30", "neither UTF-8 nor GB 18030")],
)
def test_an_empty_or_unreadable_file_is_refused(tmp_path, content, message, settings):
    settings.LANGUAGE_CODE = "en"
    path = tmp_path / "court.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message):
        run_import(path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run_import(tmp_path / "nowhere.csv")


# --- Effects on people --------------------------------------------------------------------------


def test_a_listed_user_loses_open_unlocks_and_sees_court_list_in_the_catalogue(
    tmp_path, owner, other_user, owner_api, benefit, model_version
):
    verify(owner, GOOD[0][1])
    verify(other_user)
    for user in (owner, other_user):
        grant_scoring(user)
        rescore(user, 800, model_version=model_version)
    text, _bad = court_csv()

    run_import(write(tmp_path, text))

    mine = BenefitUnlock.objects.get(user=owner)
    assert mine.locked_at is not None
    assert BenefitUnlock.objects.get(user=other_user).locked_at is None
    [item] = owner_api.get("/api/v1/me/benefits/").json()
    assert item["unlocked"] is False
    assert item["blocked_by"] == ["court_list"]
    assert rescore(owner, 800, model_version=model_version) == (0, 0)


# --- The admin upload ---------------------------------------------------------------------------


def test_the_admin_upload_imports_the_list_and_shows_the_refused_rows(admin_client, admin_user):
    text, bad = court_csv()
    upload = SimpleUploadedFile("court-2026-11.csv", text.encode("gb18030"), "text/csv")

    response = admin_client.post("/admin/scoring/courtlistimport/add/", {"upload": upload})

    record = CourtListImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/scoring/courtlistimport/{record.pk}/change/"
    assert record.imported_by == admin_user
    assert record.file_name == "court-2026-11.csv"
    assert CourtListEntry.objects.count() == 2
    page = admin_client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    for line in bad:
        assert f"<td>{line}</td>" in html
    assert_no_plaintext(html, stored_text())


def test_the_admin_upload_refuses_a_file_without_the_header(admin_client):
    upload = SimpleUploadedFile("court.csv", f"{GOOD[0][0]},{GOOD[0][1]}\n".encode())

    response = admin_client.post(
        "/admin/scoring/courtlistimport/add/", {"upload": upload}, follow=True
    )

    assert response.status_code == 200
    assert not CourtListImport.objects.exists()
    assert not CourtListEntry.objects.exists()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_the_admin_upload_refuses_an_unreadable_file(admin_client):
    upload = SimpleUploadedFile("court.csv", b"name,id_number\n\x81\x30")

    response = admin_client.post("/admin/scoring/courtlistimport/add/", {"upload": upload})

    assert response.status_code == 200
    assert "upload" in response.context["adminform"].form.errors
    assert not CourtListImport.objects.exists()


def test_court_list_entries_cannot_be_added_by_hand(admin_client):
    assert admin_client.get("/admin/scoring/courtlistentry/add/").status_code == 403


# --- An import is the whole list ----------------------------------------------------------------


def listing(*people: tuple[str, str, str]) -> str:
    """A court-list CSV of (name, ID number, case number) rows."""
    return "姓名,身份证号,案号\n" + "".join(f"{n},{i},{c}\n" for n, i, c in people)


@pytest.fixture
def listed_pair(tmp_path, owner, other_user, benefit, model_version):
    """The owner and the other user, verified, consenting and scored 800, both listed."""
    numbers = []
    for user in (owner, other_user):
        numbers.append(verify(user))
        grant_scoring(user)
        rescore(user, 800, model_version=model_version)
    run_import(
        write(tmp_path, listing(("张三", numbers[0], "(2024)京01执1号"), ("李四", numbers[1], "")))
    )
    PendingRecompute.objects.all().delete()  # what verifying and consenting queued
    return numbers


def test_whoever_the_new_list_no_longer_holds_is_removed_and_recomputed(
    tmp_path, listed_pair, owner, other_user, model_version
):
    mine, _theirs = listed_pair

    out, _err = run_import(write(tmp_path, listing(("张三", mine, "(2024)京01执1号"))))

    assert list(CourtListEntry.objects.values_list("id_number_hash", flat=True)) == [
        keyed_hash(mine)
    ]
    assert CourtListImport.objects.order_by("imported_at", "pk").last().rows_removed == 1
    assert "1 people no longer on the list removed" in out
    # Their benefits come back with the recompute queued for them; the owner's stay closed.
    assert list(PendingRecompute.objects.values_list("user_id", flat=True)) == [other_user.pk]
    assert rescore(other_user, 800, model_version=model_version) == (1, 0)
    assert rescore(owner, 800, model_version=model_version) == (0, 0)


def test_someone_newly_listed_is_recomputed_too(tmp_path, listed_pair, owner, other_user):
    mine, theirs = listed_pair
    newcomer = User.objects.create_user("newcomer", password="unused-password-42")
    number = verify(newcomer)
    grant_scoring(newcomer)
    PendingRecompute.objects.all().delete()

    run_import(
        write(
            tmp_path,
            listing(("张三", mine, "(2024)京01执1号"), ("李四", theirs, ""), ("王五", number, "")),
        )
    )

    assert list(PendingRecompute.objects.values_list("user_id", flat=True)) == [newcomer.pk]


def test_a_file_without_one_readable_row_leaves_the_list_as_it_was(tmp_path, listed_pair, settings):
    settings.LANGUAGE_CODE = "en"
    with pytest.raises(CommandError, match="nobody"):
        run_import(write(tmp_path, listing(("李四", BAD_CHECKSUM, ""))))
    assert CourtListEntry.objects.count() == 2


def _correct_court_list_dispute(user: User) -> Dispute:
    dispute = dispute_file(
        user=user, kind="court_list", record_id=None, field="", statement="Not me: paid in full."
    )
    return dispute_transition(dispute=dispute, status="corrected", note="The court confirmed it.")


def test_a_corrected_court_list_dispute_removes_the_match_and_the_same_list_keeps_it_off(
    tmp_path, listed_pair, owner, model_version
):
    mine, theirs = listed_pair
    same = listing(("张三", mine, "(2024)京01执1号"), ("李四", theirs, ""))

    dispute = _correct_court_list_dispute(owner)

    assert not is_court_listed(owner)
    assert CourtListOverride.objects.get().dispute == dispute
    assert PendingRecompute.objects.filter(user=owner).exists()
    assert rescore(owner, 800, model_version=model_version) == (1, 0)

    out, _err = run_import(write(tmp_path, same))

    assert not is_court_listed(owner)
    assert CourtListImport.objects.order_by("imported_at", "pk").last().rows_kept_off == 1
    assert "1 kept off after a corrected dispute" in out


def test_a_list_that_changes_the_entry_lists_the_person_again(tmp_path, listed_pair, owner):
    mine, theirs = listed_pair
    _correct_court_list_dispute(owner)

    run_import(
        write(
            tmp_path,
            listing(
                ("张三", mine, "(2024)京01执1号"),
                ("张三", mine, "(2026)京01执9号"),
                ("李四", theirs, ""),
            ),
        )
    )

    assert is_court_listed(owner)
    assert not CourtListOverride.objects.exists()


def test_a_list_that_drops_the_person_ends_the_correction(tmp_path, listed_pair, owner):
    mine, theirs = listed_pair
    _correct_court_list_dispute(owner)

    run_import(write(tmp_path, listing(("李四", theirs, ""))))
    assert not CourtListOverride.objects.exists()
    run_import(write(tmp_path, listing(("张三", mine, "(2024)京01执1号"), ("李四", theirs, ""))))

    assert is_court_listed(owner)


def test_another_kind_of_correction_leaves_the_court_list_alone(tmp_path, listed_pair, owner):
    dispute = dispute_file(
        user=owner, kind="court_list", record_id=None, field="", statement="Not me."
    )
    dispute_transition(dispute=dispute, status="rejected", note="The court confirms it.")

    assert is_court_listed(owner)
    assert not CourtListOverride.objects.exists()
