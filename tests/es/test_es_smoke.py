"""Smoke test against a real Elasticsearch: diacritic folding for Vietnamese, cjk for Chinese."""
import pytest

pytestmark = pytest.mark.elasticsearch

SETTINGS = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "analysis": {
        "filter": {
            "vi_folding": {"type": "asciifolding", "preserve_original": True},
        },
        "analyzer": {
            # icu-free: standard tokenizer + lowercase + asciifolding (keeps the accented form too)
            "vi_folded": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "vi_folding"]},
        },
    },
}

MAPPINGS = {
    "properties": {
        "lang": {"type": "keyword"},
        "title": {"type": "text", "analyzer": "vi_folded"},
        "body_zh": {"type": "text", "analyzer": "cjk"},
    }
}

DOCS = [
    {"_id": "vi-1", "lang": "vi", "title": "Cảng Hải Phòng đón tàu container lớn nhất"},
    {"_id": "vi-2", "lang": "vi", "title": "Hà Nội mở rộng tuyến đường sắt đô thị"},
    {"_id": "vi-3", "lang": "vi", "title": "Giá phòng khách sạn tăng mạnh dịp lễ"},
    {"_id": "zh-1", "lang": "zh", "body_zh": "海防港迎来最大的集装箱船"},
    {"_id": "zh-2", "lang": "zh", "body_zh": "河内扩建城市铁路线路"},
]


def _ids(resp):
    return sorted(hit["_id"] for hit in resp["hits"]["hits"])


def _tokens(es, **body):
    return [t["token"] for t in es.indices.analyze(**body)["tokens"]]


def test_builtin_analysis_components(es):
    # what this server has; asciifolding/cjk come from analysis-common (or hpmon's shim plugin
    # on the integ-test distribution); analysis-icu is a separate plugin and is not installed.
    assert _tokens(es, tokenizer="standard", filter=["lowercase", "asciifolding"], text="Hải Phòng") == [
        "hai",
        "phong",
    ]
    assert _tokens(es, analyzer="cjk", text="海防市") == ["海防", "防市"]
    assert _tokens(es, tokenizer="standard", filter=["cjk_width", "cjk_bigram"], text="海防") == ["海防"]


def test_vietnamese_folding_and_chinese_cjk(es, index_name):
    es.indices.create(index=index_name, settings=SETTINGS, mappings=MAPPINGS)
    ops = []
    for doc in DOCS:
        doc = dict(doc)
        ops.append({"index": {"_index": index_name, "_id": doc.pop("_id")}})
        ops.append(doc)
    resp = es.bulk(operations=ops, refresh="wait_for")
    assert not resp["errors"], resp

    # unaccented query finds the accented text
    q = {"match": {"title": {"query": "hai phong", "operator": "and"}}}
    assert _ids(es.search(index=index_name, query=q)) == ["vi-1"]
    # the accented query still works, and ranks the exact form first (preserve_original)
    q = {"match": {"title": {"query": "Hải Phòng", "operator": "and"}}}
    assert _ids(es.search(index=index_name, query=q)) == ["vi-1"]
    # "phong" alone matches both "Phòng" (city) and "phòng" (room)
    q = {"match": {"title": "phong"}}
    assert _ids(es.search(index=index_name, query=q)) == ["vi-1", "vi-3"]

    # Chinese: bigrams from the cjk analyzer
    q = {"match": {"body_zh": {"query": "海防", "operator": "and"}}}
    assert _ids(es.search(index=index_name, query=q)) == ["zh-1"]
    q = {"match_phrase": {"body_zh": "城市铁路"}}
    assert _ids(es.search(index=index_name, query=q)) == ["zh-2"]

    es.indices.delete(index=index_name)
    assert not es.indices.exists(index=index_name)
