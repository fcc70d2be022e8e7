"""The web app writes dates as the city reads them, with the same CLDR stack (Babel) as the
digest: in the city's zone, day first in Vietnamese, ISO order in English, years of four digits."""

from datetime import UTC, datetime

import pytest

from web.i18n import DateFormatter


@pytest.mark.parametrize(("value", "lang", "expected"), [
    ("2026-10-20T17:30:00Z", "vi", "21/10/2026 00:30"),  # the city's evening of the 20th UTC is the 21st
    ("2026-10-20T17:30:00Z", "en", "2026-10-21 00:30"),
    (datetime(2026, 3, 1, 1, 5, tzinfo=UTC), "vi", "01/03/2026 08:05"),
    ("2026-03-01T01:05:00", "vi", "01/03/2026 08:05"),  # a zone-less stamp is UTC, as stored
    ("0005-01-02T00:00:00+00:00", "en", "0005-01-02 07:06"),  # LMT of the zone in year 5; four digits
])
def test_datetimes_in_the_city_zone(value, lang, expected) -> None:
    assert DateFormatter("Asia/Ho_Chi_Minh").datetime(value, lang) == expected


def test_dates_and_what_is_not_a_date() -> None:
    dates = DateFormatter("Asia/Ho_Chi_Minh")
    assert dates.date("2026-10-20T17:30:00Z", "vi") == "21/10/2026"
    assert dates.date("2026-10-20T17:30:00Z", "en") == "2026-10-21"
    assert dates.datetime(None, "vi") == dates.date("", "en") == dates.datetime("not a date", "vi") == ""


def test_the_web_app_and_the_digest_read_the_taxonomy_with_one_reader() -> None:
    import alerts.digest.i18n
    import alerts.i18n
    import web.i18n

    assert web.i18n.load_taxonomy is alerts.i18n.load_taxonomy
    assert web.i18n.Taxonomy is alerts.digest.i18n.Taxonomy is alerts.i18n.Taxonomy
