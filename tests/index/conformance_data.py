"""A small multilingual corpus whose answers are known by construction (written for the tests)."""

from datetime import UTC, datetime

from index.article import Article


def _a(id, lang, country, scope, day, title, text, source=None, topics=None, risk=None):
    return Article(id=id, url=f"https://news.example/{id}", source_id=source or f"src-{lang}", title=title, text=text,
                   lead="", language=lang, country=country, scope=scope,
                   published_at=datetime(2026, 10, day, 3, 0, tzinfo=UTC) if day else None,
                   fetched_at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC), outlet=f"Outlet {lang}",
                   topics=topics, risk_score=risk, relevance_terms=["Hải Phòng"])


ARTICLES = [
    _a("vi-port", "vi", "VN", "domestic", 20, "Cảng Lạch Huyện đón tàu container lớn nhất",
       "Sáng 20/10, cảng Lạch Huyện của thành phố Hải Phòng đón tàu container có sức chở lớn nhất từ trước tới nay.",
       topics=["port_logistics"]),
    _a("vi-fdi", "vi", "VN", "domestic", 19, "Nhà đầu tư Hàn Quốc rót vốn vào Đình Vũ",
       "Khu công nghiệp Đình Vũ ở Hải Phòng tiếp nhận thêm vốn đầu tư nước ngoài từ một tập đoàn điện tử.",
       topics=["investment"]),
    _a("vi-festival", "vi", "VN", "domestic", 18, "Lễ hội Hoa Phượng Đỏ khai mạc",
       "Lễ hội Hoa Phượng Đỏ năm nay thu hút hàng chục nghìn du khách đến Hải Phòng.", topics=["tourism_culture"]),
    _a("vi-oldtone", "vi", "VN", "domestic", 17, "Thuỷ Nguyên hoàn thành công trình thuỷ lợi",
       "Các xã ở Thuỷ Nguyên hoà vào mạng lưới thuỷ lợi mới, giúp nông dân yên tâm sản xuất.",
       topics=["infrastructure"]),
    _a("vi-nodiac", "vi", "VN", "domestic", 16, "Kinh nghiem an banh da cua o hai phong",
       "Den hai phong nhat dinh phai thu banh da cua va nem cua be, dac san noi tieng cua dat cang.",
       topics=["tourism_culture"]),
    _a("vi-storm", "vi", "VN", "domestic", 15, "Bão số 3 đổ bộ vào Đồ Sơn",
       "Bão số 3 đổ bộ vào khu vực Đồ Sơn, Hải Phòng, gây mưa lớn và ngập úng cục bộ.",
       topics=["society_environment"], risk=0.2),
    _a("en-port", "en", "GB", "foreign", 20, "Haiphong port throughput hits record",
       "The port of Hai Phong handled a record number of containers in October, the port authority said.",
       topics=["port_logistics"]),
    _a("en-sea", "en", "US", "foreign", 14, "Tensions rise in the South China Sea",
       "Vietnam protested after Chinese coast guard vessels entered waters near the Paracel Islands; the navy base "
       "in Haiphong was placed on alert.", topics=["sovereignty"], risk=0.8),
    _a("en-invest", "en", "SG", "foreign", 13, "Danish investor expands in Dinh Vu",
       "A Danish firm will expand its factory in the Dinh Vu industrial zone of Hai Phong city.",
       topics=["investment"]),
    _a("en-storm", "en", "GB", "foreign", 12, "Storm batters northern Vietnam coast",
       "Typhoon winds hit the coast near Hai Phong, where fishing boats were ordered back to port.",
       topics=["society_environment"], risk=0.3),
    _a("zh-port", "zh", "CN", "foreign", 20, "越南海防港吞吐量创新高",
       "越南北部海防市的港口集装箱吞吐量今年创下新高，多条航线新开。", topics=["port_logistics"]),
    _a("zh-invest", "zh", "CN", "foreign", 11, "中资企业在海防投资建厂", "一家中国企业宣布在越南海防市投资建设新工厂。",
       topics=["investment"]),
    _a("zh-sea", "zh", "CN", "foreign", 10, "西沙群岛附近海域巡航", "中国海警船在西沙群岛附近海域进行巡航。",
       topics=["sovereignty"], risk=0.9),
    _a("ja-port", "ja", "JP", "foreign", 20, "ハイフォン港に新ターミナル",
       "ベトナム北部の港湾都市ハイフォンで、新しいコンテナターミナルが開業した。", topics=["port_logistics"]),
    _a("ja-factory", "ja", "JP", "foreign", 9, "精密部品大手、ハイフォンに新工場",
       "精密部品メーカーがハイフォン市の工業団地に新工場を建設する。", topics=["investment"]),
    _a("ko-forum", "ko", "KR", "foreign", 20, "하이퐁에서 한-베 투자 포럼 개최",
       "베트남 하이퐁시에서 한국 기업 100여 곳이 참가한 투자 포럼이 열렸다.", topics=["investment"]),
    _a("ko-school", "ko", "KR", "foreign", 8, "하이퐁 한국어 학교 개교", "하이퐁에 한국어 학교가 문을 열었다.",
       topics=["society_environment"]),
    _a("ru-port", "ru", "RU", "foreign", 20, "Порт Хайфона наращивает грузооборот",
       "В Хайфоне открыли новый контейнерный терминал, сообщили в администрации порта.",
       topics=["port_logistics"]),
    _a("ru-train", "ru", "RU", "foreign", 7, "Поезд Ханой — Хайфон",
       "Между Ханоем и Хайфоном пустят скоростной поезд.", topics=["infrastructure"]),
    _a("fr-port", "fr", "FR", "foreign", 20, "Le port d'Haïphong bat un record",
       "Le port d'Haïphong, dans le nord du Vietnam, a traité un volume record de conteneurs.",
       topics=["port_logistics"]),
    _a("fr-heritage", "fr", "FR", "foreign", None, "Patrimoine colonial à Haïphong",
       "Les façades de l'opéra de Haïphong ont été restaurées.", topics=["tourism_culture"]),
    _a("vi-hanoi", "vi", "VN", "domestic", 6, "Hà Nội mở rộng đường vành đai",
       "Hà Nội khởi công dự án đường vành đai 4 nối với các tỉnh lân cận.", topics=["infrastructure"]),
    _a("en-danang", "en", "VN", "domestic", 5, "Da Nang welcomes cruise ships",
       "The central city of Da Nang welcomed three cruise ships this week.", topics=["tourism_culture"]),
    _a("vi-oneword", "vi", "VN", "domestic", 4, "Hải Phòng", "Hải Phòng.", topics=["other"]),
]

ALL = sorted(a.id for a in ARTICLES)


def ids(*names: str) -> list[str]:
    return sorted(names)


# query text (and filters) -> the ids that must match, on every backend
QUERIES: list[tuple[str, dict, list[str]]] = [
    ("hai phong", {}, ids("vi-port", "vi-fdi", "vi-festival", "vi-nodiac", "vi-storm", "en-port", "en-invest",
                          "en-storm", "vi-oneword")),
    ("Hải Phòng", {}, ids("vi-port", "vi-fdi", "vi-festival", "vi-nodiac", "vi-storm", "en-port", "en-invest",
                          "en-storm", "vi-oneword")),
    ("HẢI PHÒNG", {}, ids("vi-port", "vi-fdi", "vi-festival", "vi-nodiac", "vi-storm", "en-port", "en-invest",
                          "en-storm", "vi-oneword")),
    ('"hai phong"', {"language": ["en"]}, ids("en-port", "en-invest", "en-storm")),
    ("đồ sơn", {}, ids("vi-storm")),
    ("do son", {}, ids("vi-storm")),
    ("thủy nguyên", {}, ids("vi-oldtone")),
    ("thuy loi", {}, ids("vi-oldtone")),
    ("lạch huyện", {}, ids("vi-port")),
    ('"cảng Lạch Huyện"', {}, ids("vi-port")),
    ('"Lạch cảng Huyện"', {}, []),
    ("banh da cua", {}, ids("vi-nodiac")),
    ("bánh đa cua", {}, ids("vi-nodiac")),
    ("haiphong", {}, ids("en-port", "en-sea", "fr-port", "fr-heritage")),
    ("haïphong", {}, ids("en-port", "en-sea", "fr-port", "fr-heritage")),
    ('"port of hai phong"', {}, ids("en-port")),
    ("container", {}, ids("vi-port")),  # no stemming: "containers" is another word
    ("storm -typhoon", {}, ids()),
    ("storm OR typhoon", {}, ids("en-storm")),
    ("Paracel OR 西沙", {}, ids("en-sea", "zh-sea")),
    ("海防", {}, ids("zh-port", "zh-invest")),
    ("海防市", {}, ids("zh-port", "zh-invest")),
    ("吞吐量", {}, ids("zh-port")),
    ("ハイフォン", {}, ids("ja-port", "ja-factory")),
    ("新工場", {}, ids("ja-factory")),
    ("하이퐁", {}, ids("ko-forum", "ko-school")),
    ("투자 포럼", {}, ids("ko-forum")),
    ("хайфон", {}, ids("ru-train")),
    ("Хайфоне", {}, ids("ru-port")),
    ("Хайфона OR Хайфоне", {}, ids("ru-port")),
    ("port -haiphong", {"language": ["en"]}, ids("en-storm")),
    ("-hai -phong -haiphong", {"language": ["en", "fr"]}, ids("en-danang")),  # d'Haïphong: elision
    ("", {"scope": ["domestic"]}, ids("vi-port", "vi-fdi", "vi-festival", "vi-oldtone", "vi-nodiac", "vi-storm",
                                      "vi-hanoi", "en-danang", "vi-oneword")),
    ("", {"country": ["CN", "JP"]}, ids("zh-port", "zh-invest", "zh-sea", "ja-port", "ja-factory")),
    ("", {"topic": ["sovereignty"]}, ids("en-sea", "zh-sea")),
    ("port", {"topic": ["port_logistics"], "language": ["en", "fr"]}, ids("en-port", "fr-port")),
    ("", {"source": ["src-ko"]}, ids("ko-forum", "ko-school")),
]
