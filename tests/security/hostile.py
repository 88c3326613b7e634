"""Hostile input for the security tests: strategies for what an attacker or a clumsy
client may type, the SQL-injection strings, and the checks every form page must pass
("a form that takes bad input gives a clear message and loses nothing")."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from urllib.parse import urlencode

from django import forms
from django.db import transaction
from django.test import Client
from django.utils.datastructures import MultiValueDict
from django.utils.html import escape
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Small enough that each security file runs in well under a minute on two cores.
FUZZ = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SQL_INJECTIONS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "'; DROP TABLE accounts_user; --",
    '"; DROP TABLE accounts_user; --',
    "1 UNION SELECT password FROM accounts_user",
    "1' UNION SELECT username, password FROM accounts_user --",
    "%' --",
    "%_%",
    "\\'; SELECT pg_sleep(5); --",
    "1); DELETE FROM accounts_user WHERE (1=1",
    "\\",
    "\\\\'",
    "admin'/*",
    "' AND 1=CAST((SELECT password FROM accounts_user LIMIT 1) AS int) --",
    "x\x00' OR '1'='1",
]

# Values that have broken form handling somewhere before: NUL and other controls,
# bidirectional overrides, numbers no field can hold, digits int() refuses, dates at the
# edge of the calendar, markup and template syntax.
NOTABLE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202e\u0644\u202c",
    "\ufeff",
    "\u200b",
    "\r\n",
    "\t\x0b\x0c",
    "-1",
    "0",
    "1e309",
    "NaN",
    "inf",
    "9" * 40,
    "9" * 5000,
    "1.5",
    "0x1F",
    "\uff11\uff12\uff13",  # full-width digits
    "\u00b2",  # a digit to str.isdigit(), not to int()
    "\u0663",  # an Arabic-Indic digit
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "张伟",
    "阿依古丽·买买提",
    "<script>alert(1)</script>",
    "{{ 7*7 }}{% debug %}",
    "%s%n%x",
    "../../etc/passwd",
    "x" * 3000,
    *SQL_INJECTIONS,
]

hostile_text = st.one_of(
    st.sampled_from(NOTABLE),
    # Any code point but surrogates: C0 controls, NUL, private use, astral planes.
    st.text(max_size=30),
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Nd", "No"]), max_size=12),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats().map(str),
    st.dates().map(lambda day: day.isoformat()),
    # Long strings, past every max_length.
    st.builds(lambda text, n: text * n, st.text(min_size=1, max_size=3), st.integers(100, 2000)),
)
# A field sent twice or more (a list in a query string or a form body).
form_value = st.one_of(hostile_text, st.lists(hostile_text, min_size=2, max_size=3))
# Field names no form has.
extra_fields = st.dictionaries(
    st.text(min_size=1, max_size=12).filter(lambda key: key != "csrfmiddlewaretoken"),
    hostile_text,
    max_size=2,
)


def form_data(valid: Mapping[str, object], **special: st.SearchStrategy) -> st.SearchStrategy:
    """Form bodies built from a valid one: each field kept valid, replaced by hostile
    text (or a field-specific strategy), sent several times, or left out; plus unknown
    fields."""
    fields = {
        name: st.one_of(st.just(value), special.get(name, form_value))
        for name, value in valid.items()
    }

    def merge(chosen: dict, extras: dict) -> dict:
        return {**{k: v for k, v in extras.items() if k not in valid}, **chosen}

    return st.builds(merge, st.fixed_dictionaries({}, optional=fields), extra_fields)


def as_querydict(data: Mapping[str, object]) -> MultiValueDict:
    """The body as the server sees it, to validate the same input with the form class."""
    return MultiValueDict(
        {
            key: [str(v) for v in value] if isinstance(value, list) else [str(value)]
            for key, value in data.items()
        }
    )


def last(value: object) -> str:
    """What a form reads from a field sent several times: the last value."""
    return str(value[-1] if isinstance(value, list) else value)


def browser(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def post(client: Client, url: str, data: Mapping[str, object], *, multipart: bool = False):
    """POST as a browser does: urlencoded, or multipart when the form takes files."""
    if multipart:
        return client.post(url, dict(data))
    return client.post(
        url, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
    )


@contextlib.contextmanager
def rolled_back() -> Iterator[None]:
    """One hypothesis example: whatever it writes is undone, so every example starts from
    the state the test's fixtures built."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


KEPT_INPUT_TYPES = {"text", "email", "number", "date", "tel", "url", "search"}


def text_fields(form: forms.BaseForm) -> list[str]:
    """The fields a person types into (not passwords, choices, boxes or files): what
    they typed must come back when the form is refused."""
    return [
        name
        for name, field in form.fields.items()
        if isinstance(field.widget, forms.Textarea)
        or getattr(field.widget, "input_type", None) in KEPT_INPUT_TYPES
    ]


ERROR_MARKS = ('class="errorlist', "message-error", 'class="errornote"')


def assert_refused_in_place(
    response, data: Mapping[str, object], kept: list[str], statuses=(200, 400)
) -> str:
    """A refused submission: the page again, with an error message and every typed value
    where it was typed."""
    assert response.status_code in statuses, (response.status_code, response.get("Location"))
    page = response.content.decode()
    assert any(mark in page for mark in ERROR_MARKS), "no error message shown"
    for name in kept:
        if name in data:
            assert escape(last(data[name])) in page, f"{name}: the typed value was lost"
    return page
