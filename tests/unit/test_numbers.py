"""Numbers from the browser: only plain ASCII digits that fit an id column are numbers."""

from __future__ import annotations

import pytest

from webui.numbers import page_number, whole_number


@pytest.mark.parametrize(("text", "number"), [
    ("7", 7), (" 12 ", 12), ("000123", 123), ("999999999", 999_999_999),
    ("", None), (None, None), ("²", None), ("٣", None), ("-1", None), ("1.5", None), ("1e3", None),
    ("1234567890", None), ("12abc", None),
])
def test_whole_number(text: str | None, number: int | None) -> None:
    assert whole_number(text) == number


@pytest.mark.parametrize(("text", "page"), [("3", 3), ("0", 1), ("²", 1), ("", 1), ("x", 1)])
def test_page_number(text: str, page: int) -> None:
    assert page_number(text) == page
