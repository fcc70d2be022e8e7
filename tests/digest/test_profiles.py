"""config/digests.yaml: the two shipped profiles, and clear errors for a broken profile."""

from __future__ import annotations

from datetime import time

import pytest
import yaml

from alerts.digest.profiles import ProfileError, parse_profiles


def test_shipped_profiles_are_sotttt_for_all_coverage_and_songoaivu_for_foreign_press(profiles):
    assert set(profiles) == {"sotttt", "songoaivu"}
    sotttt, songoaivu = profiles["sotttt"], profiles["songoaivu"]
    assert sotttt.filters == {} and sotttt.language == "vi" and sotttt.recipients == ("sotttt",)
    assert songoaivu.filters == {"scope": ["foreign"]} and songoaivu.recipients == ("songoaivu",)
    assert set(songoaivu.breakdown) == {"country", "language"} and "breakdown" in songoaivu.sections
    assert {"countries", "languages"} <= set(songoaivu.charts)
    assert sotttt.send_time == time(7, 0) and songoaivu.send_time == time(7, 30)
    assert sotttt.display_name("vi") == "Sở Thông tin và Truyền thông"
    assert songoaivu.display_name("vi") == "Sở Ngoại vụ" and songoaivu.display_name("en")


def test_shipped_profiles_show_off_investment_port_tourism_and_answer_sovereignty_and_rights(profiles):
    for profile in profiles.values():
        purposes = {s.id: s.purpose for s in profile.topics}
        assert {purposes[t] for t in ("investment", "port_logistics", "tourism_culture", "promotion_events")} == {
            "promote"}
        assert purposes["sovereignty"] == purposes["rights_religion_ethnicity"] == "respond"


def _doc(**profile) -> dict:
    return {"profiles": {"p": {"name": "Phòng", "recipients": ["x"], **profile}}}


@pytest.mark.parametrize(("profile", "message"), [
    ({"sections": ["headline", "weather"]}, "unknown weather"),
    ({"send_time": "7h"}, "send_time"),
    ({"language": "fr"}, "language"),
    ({"filters": {"colour": ["red"]}}, "filters"),
    ({"topics": [{"topic": "sovereignity"}]}, "unknown topic 'sovereignity'"),
    ({"topics": [{"id": "events", "query": '"unclosed'}]}, "unclosed quote"),
    ({"recipients": []}, "recipients"),
    ({"min_risk": 3}, "min_risk"),
    ({"colour": "blue"}, "unknown key(s) colour"),
])
def test_an_invalid_profile_is_refused_with_the_faulty_key_named(profile, message, taxonomy):
    with pytest.raises(ProfileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_profiles(_doc(**profile), set(taxonomy.topics))


def test_a_minimal_profile_gets_the_defaults():
    profile = parse_profiles(yaml.safe_load("profiles: {p: {name: Phòng, recipients: [x]}}"))["p"]
    assert profile.language == "vi" and profile.send_time == time(7, 0)
    assert "headline" in profile.sections and "appendix" in profile.sections
