"""Relevance with the shipped city profile: what analysts expect to be kept or rejected."""

from datetime import date
from pathlib import Path

import pytest

from pipeline.city import ProfileError, load_profile
from pipeline.relevance import score_relevance

PROFILE = load_profile(Path(__file__).resolve().parents[2] / "config" / "cities" / "haiphong.yaml")
TODAY = date(2026, 11, 20)


def judge(title, text, day=TODAY, lead=""):
    return score_relevance(PROFILE, title=title, text=text, lead=lead, day=day)


@pytest.mark.parametrize("title,text", [
    ("Cảng Lạch Huyện đón tàu lớn", "Tàu container cập cảng ở thành phố Hải Phòng sáng nay."),
    ("Haiphong port throughput rises", "Container volumes grew 12% this year."),
    ("Du lịch biển đảo", "Đảo Cát Bà đón lượng khách kỷ lục trong tháng 10."),
    ("越南海防港吞吐量增长", "越南北部港口城市海防的集装箱吞吐量增长。"),
    ("ハイフォン港に新ターミナル", "ベトナム北部の港湾都市。"),
    ("하이퐁에서 투자 포럼", "베트남 북부 도시에서 열렸다."),
    ("Порт растёт", "В Хайфоне открыли новый терминал."),
])
def test_articles_about_the_city_are_relevant(title, text):
    result = judge(title, text)
    assert result.relevant, result
    assert result.terms


@pytest.mark.parametrize("title,text", [
    ("Tiền đạo Nguyễn Hải Phòng lập hat-trick", "Nguyễn Hải Phòng ghi ba bàn. Sau trận, Hải Phòng nói rất vui."),
    ("Crew rescued from bulk carrier Hai Phong Star", "A tug reached the Hai Phong Star off Durban."),
    ("海防部队举行演习", "边海防部队加强海防建设，提高海防能力。"),
    ("Đà Nẵng đón khách", "Thành phố biển miền Trung đón một triệu lượt khách."),
])
def test_confusions_and_other_places_are_not_relevant(title, text):
    result = judge(title, text)
    assert not result.relevant, result
    assert result.score < PROFILE.threshold


def test_a_rejected_person_name_does_not_hide_the_city_named_elsewhere():
    result = judge("Ông Nguyễn Hải Phòng thăm cảng Lạch Huyện", "Cảng nằm ở Hải Phòng.")
    assert result.relevant and "Lạch Huyện" in result.terms


def test_places_are_judged_by_the_map_of_the_publication_date():
    text = "Khu công nghiệp ở Hải Dương thu hút thêm vốn đầu tư."
    assert not judge("Đầu tư mới", text, day=date(2024, 5, 1)).relevant
    after = judge("Đầu tư mới", text, day=date(2026, 5, 1))
    assert after.relevant and after.terms == ["Hải Dương"]
    before = judge("Đầu tư mới", text, day=date(2024, 5, 1))
    assert any(r.kind == "validity" for r in before.rejected)


def test_title_counts_more_than_a_passing_mention():
    body_once = judge("Xuất khẩu nông sản", "Lô hàng đi từ Hải Phòng. " + "Nông sản tăng trưởng. " * 40)
    in_title = judge("Hải Phòng xuất khẩu nông sản", "Nông sản tăng trưởng. " * 40)
    assert body_once.relevant and in_title.score > body_once.score


def test_every_hit_carries_its_evidence():
    result = judge("Cảng Hải Phòng", "Tàu cập cảng Lạch Huyện.")
    assert {(h.field, h.surface) for h in result.hits} == {("title", "Hải Phòng"), ("opening", "Lạch Huyện")}


def test_invalid_profile_is_reported_with_its_place(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("names:\n  - {term: 'X', weight: 3}\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"names\[0\].*weight"):
        load_profile(bad)
