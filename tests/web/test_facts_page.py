"""The reference figures page: analysts see which quantities have an official figure, admins
enter one with its source (a figure without a source or with a bad value is refused with the
reason, nothing saved) and retire one; the article checker uses what was entered."""

from __future__ import annotations

import re
from datetime import date

from hpmon.app import load_facts

from .conftest import csrf_of

WRONG = "Sau sáp nhập, Hải Phòng có dân số 10 triệu người, theo bài viết."


def _form(page: str, **values: str) -> dict[str, str]:
    return {"csrf_token": csrf_of(page), "quantity": "population", "value": "4.700.000", "period": "",
            "valid_from": "2025-07-01", "valid_until": "", "source": "Cục Thống kê, Niên giám thống kê 2025",
            "source_date": "2026-03-31", **values}


def test_an_admin_enters_a_figure_that_articles_are_then_compared_with(client_for, settings):
    admin = client_for("admin")
    page = admin.get("/facts")
    assert page.status_code == 200
    assert "Dân số" in page.text and "chưa có số liệu chính thức" in page.text
    saved = admin.post("/facts", data=_form(page.text, value="4700000"), follow_redirects=False)
    assert saved.status_code == 303
    after = admin.get(saved.headers["location"]).text
    assert "Đã lưu số liệu chính thức" in after and "Cục Thống kê, Niên giám thống kê 2025" in after
    assert "4.700.000" in after  # Vietnamese thousands separator
    [conflict] = load_facts(settings).check_facts(WRONG, "vi", date(2025, 9, 1))
    assert conflict.reference_value == 4_700_000


def test_a_figure_without_source_or_with_a_bad_value_is_refused(client_for, settings):
    admin = client_for("admin")
    page = admin.get("/facts").text
    for values, message in (({"source": "  "}, "Cần ghi nguồn"), ({"value": "nhiều"}, "Giá trị phải là số dương"),
                            ({"period": "2024"}, "không nhập cả hai"), ({"valid_from": "2025-13-01"}, "không hợp lệ"),
                            ({"quantity": "happiness"}, "không có trong tệp")):
        refused = admin.post("/facts", data=_form(page, **values))
        assert refused.status_code == 400 and message in refused.text, values
    assert "Nhập bởi" not in admin.get("/facts").text
    assert load_facts(settings).check_facts(WRONG, "vi", date(2025, 9, 1)) == []


def test_analysts_read_the_page_without_the_form_and_a_retired_figure_stops_counting(client_for, settings):
    admin = client_for("admin")
    admin.post("/facts", data=_form(admin.get("/facts").text))
    analyst = client_for("analyst").get("/facts").text
    assert "Cục Thống kê, Niên giám thống kê 2025" in analyst
    assert 'action="/facts"' not in analyst and "/retire" not in analyst
    page = admin.get("/facts").text
    retire = re.search(r'action="(/facts/\d+/retire)"', page)[1]
    assert admin.post(retire, data={"csrf_token": csrf_of(page)}, follow_redirects=False).status_code == 303
    assert "Thôi dùng (bởi admin)" in admin.get("/facts").text
    assert load_facts(settings).check_facts(WRONG, "vi", date(2025, 9, 1)) == []
    assert admin.post("/facts/999999/retire", data={"csrf_token": csrf_of(page)}).status_code == 404
