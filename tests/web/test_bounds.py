"""Out-of-range input is a bad request or not found, never a server error."""

from __future__ import annotations

import pytest

from .conftest import csrf_of

HUGE = "99999999999999999999"


@pytest.mark.parametrize("url", [
    "/search?since=0001-01-01", "/search?until=9999-12-31", "/search/export.csv?since=0001-01-01",
    "/digests?profile=sotttt&day=9999-12-31", "/digests/preview/sotttt?day=0001-01-01",
    f"/cases/{HUGE}", f"/cases/{HUGE}/evidence/1", f"/articles/x?saved={HUGE}", f"/alerts/new?saved={HUGE}",
])
def test_out_of_range_values_in_urls_are_answered_without_a_server_error(client_for, url):
    client = client_for("admin")
    response = client.get(url)
    assert response.status_code < 500, (url, response.status_code)


def test_out_of_range_ids_in_posts_are_bad_requests(client_for):
    client = client_for("admin")
    token = csrf_of(client.get("/search").text)
    for path in (f"/cases/{HUGE}/note", f"/users/{HUGE}/disable", f"/search/saved/{HUGE}/delete"):
        response = client.post(path, data={"csrf_token": token, "text": "x"})
        assert response.status_code in (400, 404), (path, response.status_code)

