"""Unit tests of accounts.resident_id: the resident ID number and name rules, no database.

Every failing rule maps to one error code of the public contract (format, checksum,
birth_date, region, underage, name, legacy_15_digit); the property tests check that no
input ever escapes as anything but an IdentityRuleError.
"""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from accounts.resident_id import (
    MINIMUM_AGE,
    IdentityRuleError,
    ResidentId,
    age_on,
    mask_id_number,
    normalise_name,
    parse_resident_id,
    validate_name,
)
from tests.dates import FIXED_TODAY
from tests.factories import make_id_number

TODAY = FIXED_TODAY  # the `today` fixture's day

# 110105 北京市朝阳区, born 1990-03-07, sequence 005 (odd: male); check character X.
NUMBER_X = "11010519900307005X"
# Region codes with no start or end year in stdnum's table, so valid for any birth year.
# (440301 and 510104 only exist from 1983 and 1990, so they cannot carry a 1930 birth.)
LONG_LIVED_REGIONS = ["110101", "110102", "110105", "120101", "310101", "310104"]
# Province prefixes that exist in the region table.
PROVINCES = ["11", "12", "13", "31", "32", "44", "51", "65"]

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _code(raw: str, today: datetime.date = TODAY) -> str:
    with pytest.raises(IdentityRuleError) as caught:
        parse_resident_id(raw, today=today)
    return caught.value.code


def _outcome(call, *args, **kwargs):
    """(result, None) on success, (None, code) on an IdentityRuleError; anything else
    propagates and fails the test."""
    try:
        return call(*args, **kwargs), None
    except IdentityRuleError as error:
        return None, error.code


def _with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def _sixteenth_birthday(birth: datetime.date) -> datetime.date:
    """Independent oracle: the day someone turns 16 (29 February → 1 March if needed)."""
    try:
        return birth.replace(year=birth.year + MINIMUM_AGE)
    except ValueError:
        return datetime.date(birth.year + MINIMUM_AGE, 3, 1)


# --- A valid number ------------------------------------------------------------------------


def test_valid_number_parses_and_derives_birth_date_gender_and_region():
    resident = parse_resident_id(NUMBER_X, today=TODAY)

    assert isinstance(resident, ResidentId)
    assert resident.number == NUMBER_X
    assert resident.birth_date == datetime.date(1990, 3, 7)
    assert resident.gender == "M"
    assert resident.region_code == "110105"
    assert "朝阳区" in resident.region_name
    assert resident.region_name.startswith("北京市")


def test_trailing_lowercase_x_is_read_as_capital_x():
    resident = parse_resident_id(NUMBER_X.lower(), today=TODAY)

    assert resident.number == NUMBER_X


@pytest.mark.parametrize(
    "raw",
    [
        f"  {NUMBER_X}  ",
        f"\t{NUMBER_X}\n",
        "110105 19900307 005X",
        "1101 0519 9003 0700 5X",
        f"\u3000{NUMBER_X[:6]}\u3000{NUMBER_X[6:]}\u3000",  # full-width (ideographic) spaces
        "110105 19900307 005x",
    ],
    ids=["around", "tab-newline", "grouped", "groups-of-4", "full-width", "grouped-lower-x"],
)
def test_spaces_around_and_inside_the_number_are_trimmed(raw):
    assert parse_resident_id(raw, today=TODAY).number == NUMBER_X


@pytest.mark.parametrize(("gender_digit", "expected"), [("1", "M"), ("3", "M"), ("9", "M")])
def test_odd_17th_digit_means_male(gender_digit, expected):
    number = _with_check(f"1101051990030700{gender_digit}")
    assert parse_resident_id(number, today=TODAY).gender == expected


@pytest.mark.parametrize("gender_digit", ["0", "2", "4", "8"])
def test_even_17th_digit_including_zero_means_female(gender_digit):
    number = _with_check(f"1101051990030700{gender_digit}")
    assert parse_resident_id(number, today=TODAY).gender == "F"


def test_region_name_is_derived_from_the_region_code():
    resident = parse_resident_id(make_id_number("310101", "19850615", "222"), today=TODAY)

    assert resident.region_code == "310101"
    assert "上海市" in resident.region_name
    assert "黄浦区" in resident.region_name


def test_masked_number_keeps_only_the_first_and_last_character():
    assert mask_id_number(NUMBER_X) == "1****************X"
    assert parse_resident_id(NUMBER_X, today=TODAY).masked == "1****************X"
    assert mask_id_number("310101198506152227") == "3****************7"


@given(st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))
def test_no_mask_shows_a_birth_date_digit(number):
    masked = mask_id_number(number)

    assert len(masked) == 18
    assert set(masked[1:17]) == {"*"}


# --- Each refusal and its code -------------------------------------------------------------


def test_old_15_digit_number_is_refused_as_legacy_15_digit():
    assert _code("110105900307123") == "legacy_15_digit"
    assert _code(" 110105 900307 123 ") == "legacy_15_digit"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        NUMBER_X[:17],  # 17 characters
        NUMBER_X[:17] + "1" + "0",  # 19 characters
        NUMBER_X + "X",  # 19 characters
        "11010519900307005Y",  # last character neither digit nor X
        "1101051990030700X5",  # X not last
        "X10105199003070055",
        "abcdefghijklmnopqr",
        "11010519900307-005",  # 18 characters with a dash
        "1101051990030700",  # 16 digits
        "11010590030712",  # 14 digits
        "11010590030712X",  # 15 characters ending in X is not a legacy number
    ],
)
def test_malformed_number_is_refused_as_format(raw):
    assert _code(raw) == "format"


def test_wrong_check_character_is_refused_as_checksum():
    right = NUMBER_X[-1]
    for wrong in "0123456789X":
        if wrong != right:
            assert _code(NUMBER_X[:17] + wrong) == "checksum"


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900000", "19900431", "20230229"])
def test_impossible_birth_date_is_refused_as_birth_date(birth):
    assert _code(make_id_number("110105", birth, "123")) == "birth_date"


def test_birth_date_after_today_is_refused_as_birth_date():
    tomorrow = TODAY + datetime.timedelta(days=1)
    assert _code(make_id_number("110105", tomorrow.strftime("%Y%m%d"), "123")) == "birth_date"
    assert _code(make_id_number("110105", "20990101", "123")) == "birth_date"


def test_birth_date_before_1900_is_refused_as_birth_date():
    assert _code(make_id_number("110105", "18991231", "123")) == "birth_date"


def test_region_code_created_after_the_birth_year_is_refused():
    # 110112 Tongzhou district exists from 1997 on.
    assert _code(make_id_number("110112", "19900307", "123")) == "region"
    assert _code(make_id_number("110112", "19961231", "123")) == "region"
    assert parse_resident_id(make_id_number("110112", "19970101", "123"), today=TODAY)
    resident = parse_resident_id(make_id_number("110112", "20000101", "123"), today=TODAY)
    assert "通州区" in resident.region_name


def test_region_code_abolished_before_the_birth_year_is_refused():
    # 110103 Chongwen district was merged away in 2010: valid up to births in 2010.
    assert _code(make_id_number("110103", "20120101", "123")) == "region"
    assert _code(make_id_number("110103", "20110101", "123")) == "region"
    assert parse_resident_id(make_id_number("110103", "19900307", "123"), today=TODAY)
    assert parse_resident_id(make_id_number("110103", "20100101", "123"), today=TODAY)


@pytest.mark.parametrize("region", ["999999", "000000", "990101"])
def test_unknown_region_code_is_refused_as_region(region):
    assert _code(make_id_number(region, "19900307", "123")) == "region"


@pytest.mark.parametrize("region", ["110199", "119999", "440399"])
def test_unknown_county_in_a_known_province_is_refused_as_region(region):
    assert _code(make_id_number(region, "19900307", "123")) == "region"


@pytest.mark.parametrize("digit", ["\u00b2", "\u2460", "\u00b9"], ids=["sup2", "circled1", "sup1"])
def test_non_ascii_digit_characters_are_refused_as_format(digit):
    assert _code(digit * 17 + "0") == "format"


def test_rules_are_checked_in_contract_order():
    # A wrong check character wins over an impossible date and an unknown region...
    bad_everything = make_id_number("999999", "19900230", "123")
    wrong_check = bad_everything[:17] + ("0" if bad_everything[17] != "0" else "1")
    assert _code(wrong_check) == "checksum"
    # ...an impossible date wins over an unknown region...
    assert _code(bad_everything) == "birth_date"
    # ...and a region that did not exist wins over being under age.
    assert _code(make_id_number("110103", "20150101", "123")) == "region"


# --- Age ----------------------------------------------------------------------------------


def test_applicant_turning_16_today_is_accepted():
    # today 2026-11-21, born 2010-11-21: 16th birthday is today.
    resident = parse_resident_id(make_id_number("110105", "20101121", "123"), today=TODAY)
    assert age_on(resident.birth_date, TODAY) == 16


def test_underage_applicant_is_refused():
    # born 2010-11-22: turns 16 tomorrow, so still 15 on 2026-11-21.
    assert age_on(datetime.date(2010, 11, 22), TODAY) == 15
    assert _code(make_id_number("110105", "20101122", "123")) == "underage"


def test_applicant_born_today_is_underage_not_a_birth_date_error():
    assert _code(make_id_number("110105", TODAY.strftime("%Y%m%d"), "123")) == "underage"


def test_age_on_counts_29_february_birthday_from_1_march_in_common_years():
    born = datetime.date(2008, 2, 29)
    # 2026 is a common year: on 28 Feb the 18th birthday has not come yet (17)...
    assert age_on(born, datetime.date(2026, 2, 28)) == 17
    # ...and on 1 March it has (18).
    assert age_on(born, datetime.date(2026, 3, 1)) == 18
    # 2024 is a leap year: the 16th birthday is 29 Feb itself.
    assert age_on(born, datetime.date(2024, 2, 28)) == 15
    assert age_on(born, datetime.date(2024, 2, 29)) == 16
    # 2025 is common: 28 Feb is still 16, 1 March makes 17.
    assert age_on(born, datetime.date(2025, 2, 28)) == 16
    assert age_on(born, datetime.date(2025, 3, 1)) == 17
    # born 2004-02-29, on 2021-02-28: 2021 - 2004 = 17, minus 1 before the birthday = 16.
    assert age_on(datetime.date(2004, 2, 29), datetime.date(2021, 2, 28)) == 16
    assert age_on(datetime.date(2004, 2, 29), datetime.date(2021, 3, 1)) == 17


def test_29_february_birth_is_16_on_29_february_of_a_leap_year():
    number = make_id_number("110105", "20080229", "123")
    # 2024 is a leap year: the day before the 16th birthday is still 15.
    assert _code(number, today=datetime.date(2024, 2, 28)) == "underage"
    assert parse_resident_id(number, today=datetime.date(2024, 2, 29)).birth_date == (
        datetime.date(2008, 2, 29)
    )


def test_29_february_birth_turns_16_on_1_march_when_that_year_is_common():
    # 2084 is a leap year, 2100 is not (century rule): the 16th birthday of someone born
    # 2084-02-29 falls in a common year, so it counts from 2100-03-01.
    number = make_id_number("110105", "20840229", "123")
    assert _code(number, today=datetime.date(2100, 2, 28)) == "underage"
    assert parse_resident_id(number, today=datetime.date(2100, 3, 1))


# --- Names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("  李四\u3000", "李四"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),  # bullet U+2022
        ("阿依古丽・买买提", "阿依古丽·买买提"),  # katakana middle dot U+30FB
        ("阿依古丽･买买提", "阿依古丽·买买提"),  # half-width katakana middle dot U+FF65
        ("阿依古丽‧买买提", "阿依古丽·买买提"),  # hyphenation point U+2027
        ("爱新觉罗·溥仪", "爱新觉罗·溥仪"),
        ("王𪚥", "王𪚥"),  # a rare character outside the basic block (extension B)
        ("龙" * 30, "龙" * 30),
    ],
)
def test_valid_name_is_accepted_and_normalised(raw, expected):
    assert validate_name(raw) == expected


def test_look_alike_dots_are_normalised_to_the_middle_dot():
    assert normalise_name("买买提•艾力") == "买买提·艾力"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "张",
        "龙" * 31,
        "Zhang San",
        "张San",
        "张3",
        "张三1",
        "·张三",
        "张三·",
        "阿依古丽··买买提",
        "阿依古丽·•买买提",
        "<b>张三</b>",
        "张三<script>",
        "张-三",
        "张_三",
        "··",
    ],
)
def test_invalid_name_is_refused_as_name(raw):
    with pytest.raises(IdentityRuleError) as caught:
        validate_name(raw)
    assert caught.value.code == "name"
    assert str(caught.value.message)


def test_every_refusal_carries_a_non_empty_message():
    for raw in ("110105900307123", "123", NUMBER_X[:17] + "1", "99999919900307123X"):
        with pytest.raises(IdentityRuleError) as caught:
            parse_resident_id(raw, today=TODAY)
        assert str(caught.value.message).strip()


# --- Properties ----------------------------------------------------------------------------

ID_SHAPED_TEXT = st.text(alphabet="0123456789Xx \u3000", min_size=0, max_size=22)


@PROPERTY_SETTINGS
@given(raw=st.one_of(st.text(max_size=40), ID_SHAPED_TEXT))
def test_random_text_only_ever_raises_identity_rule_error_from_parse_resident_id(raw):
    resident, code = _outcome(parse_resident_id, raw, today=TODAY)

    if resident is None:
        assert code in {
            "format",
            "checksum",
            "birth_date",
            "region",
            "underage",
            "legacy_15_digit",
        }
    else:
        assert len(resident.number) == 18


@PROPERTY_SETTINGS
@given(raw=st.text(max_size=40))
def test_random_text_only_ever_raises_identity_rule_error_from_validate_name(raw):
    name, code = _outcome(validate_name, raw)

    if name is None:
        assert code == "name"
    else:
        assert 2 <= len(name) <= 30


valid_parts = st.tuples(
    st.sampled_from(LONG_LIVED_REGIONS),
    st.dates(min_value=datetime.date(1930, 1, 1), max_value=datetime.date(2010, 11, 21)),
    st.integers(min_value=0, max_value=999),
    st.booleans(),
)


@PROPERTY_SETTINGS
@given(parts=valid_parts)
def test_any_valid_number_parses_and_round_trips_birth_date_and_gender(parts):
    region, birth, sequence, lower = parts
    number = _with_check(f"{region}{birth:%Y%m%d}{sequence:03d}")
    raw = number.lower() if lower else number

    resident = parse_resident_id(raw, today=TODAY)

    assert resident.number == number
    assert resident.birth_date == birth
    assert resident.gender == ("M" if sequence % 2 else "F")
    assert resident.region_code == region
    assert resident.region_name
    assert resident.masked == f"{number[0]}{'*' * 16}{number[-1]}"


@PROPERTY_SETTINGS
@given(parts=valid_parts, position=st.integers(min_value=0, max_value=17), data=st.data())
def test_changing_any_single_character_of_a_valid_number_fails_the_checksum(parts, position, data):
    region, birth, sequence, _lower = parts
    number = _with_check(f"{region}{birth:%Y%m%d}{sequence:03d}")
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]

    # The GB 11643 weights are all non-zero modulo 11, so every single substitution is
    # caught by the check character, which is checked before the other rules.
    assert _code(changed) == "checksum"


@PROPERTY_SETTINGS
@given(
    birth=st.dates(min_value=datetime.date(1930, 1, 1), max_value=datetime.date(2083, 12, 31)),
    offset=st.integers(min_value=-3, max_value=3),
    region=st.sampled_from(LONG_LIVED_REGIONS),
)
def test_applicant_is_accepted_exactly_from_the_16th_birthday(birth, offset, region):
    today = _sixteenth_birthday(birth) + datetime.timedelta(days=offset)
    number = _with_check(f"{region}{birth:%Y%m%d}123")

    if offset >= 0:
        assert parse_resident_id(number, today=today).birth_date == birth
        assert age_on(birth, today) >= MINIMUM_AGE
    else:
        assert _code(number, today=today) == "underage"
        assert age_on(birth, today) == MINIMUM_AGE - 1


@PROPERTY_SETTINGS
@given(
    province=st.sampled_from(PROVINCES),
    county=st.integers(min_value=0, max_value=9999),
    birth=st.dates(min_value=datetime.date(1930, 1, 1), max_value=datetime.date(2010, 11, 21)),
)
def test_any_region_code_is_either_accepted_or_refused_as_region(province, county, birth):
    number = _with_check(f"{province}{county:04d}{birth:%Y%m%d}123")
    resident, code = _outcome(parse_resident_id, number, today=TODAY)

    if resident is None:
        assert code == "region"
    else:
        assert resident.region_code == number[:6]


def test_full_width_digits_and_x_typed_on_a_chinese_keyboard_are_read_as_ascii():
    number = make_id_number("110105", "19491231", "002")
    full_width = "".join(chr(0xFF10 + int(c)) if c.isdigit() else "\uff58" for c in number)

    assert parse_resident_id(full_width, today=TODAY).number == number
