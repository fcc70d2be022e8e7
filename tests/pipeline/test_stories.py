from datetime import UTC, datetime, timedelta

import pytest

from pipeline.stories import StoryStore, jaccard, minhash, numbers

DAY = datetime(2026, 11, 20, 8, tzinfo=UTC)
PORT_VI = ("Cảng Lạch Huyện đón tàu mẹ 20.000 TEU đầu tiên",
           "Sáng 20/11, bến số 5 và số 6 thuộc khu bến cảng Lạch Huyện (thành phố Hải Phòng) đã đón chuyến tàu mẹ "
           "có sức chở 20.000 TEU đầu tiên cập cảng, đánh dấu bước tiến mới của cảng nước sâu cửa ngõ phía Bắc. "
           "Con tàu dài gần 400 mét, mớn nước 14,5 mét, khởi hành từ Thượng Hải và sẽ xếp dỡ khoảng 3.200 container.")


@pytest.fixture
def store(tmp_path):
    s = StoryStore(tmp_path / "stories.sqlite")
    yield s
    s.close()


def test_syndicated_copy_lightly_edited_joins_the_story(store):
    first = store.assign(article_id="a", title=PORT_VI[0], text=PORT_VI[1], date=DAY, language="vi",
                         outlet="Báo A", places=["Lạch Huyện"])
    edited = PORT_VI[1].replace("Sáng 20/11", "Sáng nay (20/11)").replace("đánh dấu", "ghi dấu")
    copy = store.assign(article_id="b", title=PORT_VI[0] + " cập cảng", text=edited, date=DAY + timedelta(hours=3),
                        language="vi", outlet="Báo B", places=["Lạch Huyện"])
    assert first.how == "new" and first.story_id == "a"
    assert copy.how == "near_duplicate" and copy.story_id == "a" and copy.score >= 0.5


def test_another_write_up_of_the_same_event_joins_the_story(store):
    store.assign(article_id="a", title=PORT_VI[0], text=PORT_VI[1], date=DAY, language="vi", places=["Lạch Huyện"])
    other = store.assign(
        article_id="c", title="Tàu container 20.000 TEU lần đầu cập cảng Lạch Huyện",
        text="Chiều 20/11, lần đầu tiên một tàu container sức chở 20.000 TEU cập bến cảng Lạch Huyện của Hải Phòng. "
             "Tàu dài gần 400 mét, làm hàng khoảng 3.200 container trước khi sang Mỹ.",
        date=DAY + timedelta(hours=6), language="vi", places=["Lạch Huyện"])
    assert other.story_id == "a" and other.how in ("same_event", "near_duplicate")


def test_same_event_in_another_language_joins_by_numbers_and_places(store):
    store.assign(article_id="a", title=PORT_VI[0], text=PORT_VI[1], date=DAY, language="vi", places=["Lạch Huyện"])
    en = store.assign(article_id="e", title="First 20,000 TEU mothership calls at Lach Huyen",
                      text="A 20,000 TEU container ship, almost 400 metres long, called at Lach Huyen port in "
                           "Hai Phong and will handle about 3,200 containers.", date=DAY + timedelta(hours=5),
                      language="en", places=["Lạch Huyện"])
    assert en.story_id == "a" and en.how == "same_event"


def test_unrelated_articles_and_old_events_start_new_stories(store):
    store.assign(article_id="a", title=PORT_VI[0], text=PORT_VI[1], date=DAY, language="vi", places=["Lạch Huyện"])
    other = store.assign(article_id="f", title="Lễ hội Hoa Phượng Đỏ khai mạc",
                         text="Lễ hội Hoa Phượng Đỏ thu hút hàng chục nghìn du khách đến Hải Phòng.", date=DAY,
                         language="vi", places=["Hải Phòng"])
    later = store.assign(article_id="g", title=PORT_VI[0], text="Một năm sau, " + PORT_VI[1][:80] + " khác hẳn.",
                         date=DAY + timedelta(days=30), language="vi", places=["Lạch Huyện"])
    assert other.story_id == "f" and other.how == "new"
    assert later.story_id in ("g", "a")  # a copy a month later may still be a near-duplicate; never a crash


def test_assignment_is_stable_and_top_stories_rank_by_outlets(store):
    store.assign(article_id="a", title=PORT_VI[0], text=PORT_VI[1], date=DAY, language="vi", outlet="A",
                 places=["Lạch Huyện"])
    store.assign(article_id="b", title=PORT_VI[0], text=PORT_VI[1], date=DAY, language="vi", outlet="B",
                 places=["Lạch Huyện"])
    store.assign(article_id="x", title="Tin khác", text="Một tin hoàn toàn khác về thời tiết.", date=DAY,
                 language="vi", outlet="C")
    assert store.assign(article_id="b", title="", text="", date=DAY, language="vi").story_id == "a"
    top = store.top(limit=5)
    assert top[0].story_id == "a" and top[0].outlets == ["A", "B"] and top[0].size == 2
    assert store.members("a") == ["a", "b"]


def test_helpers():
    assert numbers("20.000 TEU, 20,000 TEU, năm 2026, 5 tàu, 3.200 container") == {"20000", "3200"}
    sig = minhash("một hai ba bốn năm")
    assert jaccard(sig, sig) == 1.0
    assert minhash("") and len(minhash("海防港吞吐量")) == 64


def test_an_article_whose_figures_differ_from_the_rest_of_its_story_is_divergent(store):
    base = "Cảng Lạch Huyện ở Hải Phòng đón tàu container sức chở {n} TEU, dài {m} mét, làm hàng {k} container."
    for i, outlet in enumerate(("A", "B", "C")):
        store.assign(article_id=f"s{i}", title="Tàu lớn cập cảng Lạch Huyện", text=base.format(n="20.000", m=400,
                     k="3.200") + " " * i, date=DAY, language="vi", outlet=outlet, places=["Lạch Huyện"])
    odd = base.format(n="8.000", m=250, k="900")
    match = store.match(article_id="odd", title="Tàu lớn cập cảng Lạch Huyện", text=odd, date=DAY, language="vi",
                        places=["Lạch Huyện"])
    assert match.story_id == "s0"
    score, evidence = store.divergence("s0", "odd", "Tàu lớn cập cảng Lạch Huyện", odd)
    assert score >= 0.5 and "20000" in evidence and "8000" in evidence
    assert store.divergence("s0", "same", "Tàu lớn", base.format(n="20.000", m=400, k="3.200")) is None
    assert store.story_of("odd") is None  # match() records nothing
