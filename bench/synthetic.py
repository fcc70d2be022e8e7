"""Deterministic synthetic multilingual news articles for the search benchmark.

Seeded generation from per-language news vocabularies (Zipf-weighted), with the city's names and
places (from the Hải Phòng profile's spellings) at rates like those of hpmon's index, where every
article has passed the relevance stage: most name the city, the rest name one of its places.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from index.article import Article

LANGUAGE_MIX = {"vi": 0.50, "en": 0.20, "zh": 0.07, "ja": 0.05, "ko": 0.05, "ru": 0.05, "fr": 0.08}

WORDS = {
    "vi": (
        "phát triển|kinh tế|thành phố|người dân|chính quyền|cảng biển|hàng hóa|doanh nghiệp|đầu tư|dự án|"
        "giao thông|xây dựng|hạ tầng|khu công nghiệp|lao động|công nhân|năm nay|tháng|tăng trưởng|xuất khẩu|"
        "nhập khẩu|container|tàu|logistics|du lịch|du khách|khách sạn|bãi biển|mùa hè|lễ hội|văn hóa|"
        "giáo dục|học sinh|trường|bệnh viện|y tế|môi trường|ô nhiễm|rác thải|nước|mưa lớn|bão|ngập lụt|"
        "tai nạn|giao thông đường bộ|cảnh sát|điều tra|vụ việc|xử phạt|vi phạm|công an|tòa án|bị cáo|"
        "hội nghị|lãnh đạo|bí thư|chủ tịch|ủy ban nhân dân|hội đồng nhân dân|nghị quyết|chỉ đạo|"
        "kế hoạch|triển khai|hoàn thành|khởi công|khánh thành|cầu|đường|cao tốc|sân bay|chuyến bay|"
        "hàng không|điện|năng lượng|nhà máy|sản xuất|ô tô|điện thoại|linh kiện|FDI|nhà đầu tư|Hàn Quốc|"
        "Nhật Bản|Trung Quốc|Hoa Kỳ|hợp tác|ký kết|biên bản|ghi nhớ|thương mại|ngân sách|thu ngân sách|"
        "tỷ đồng|triệu USD|tỷ USD|phần trăm|giá|thị trường|bất động sản|nhà ở|chung cư|đất|quy hoạch|"
        "sáp nhập|tỉnh|xã|phường|đặc khu|cán bộ|bộ máy|tinh gọn|chuyển đổi số|công nghệ|thông tin|"
        "báo chí|tuyên truyền|đối ngoại|hình ảnh|quảng bá|bóng đá|câu lạc bộ|sân vận động|trận đấu|"
        "cổ động viên|nông nghiệp|thủy sản|ngư dân|đánh bắt|hải sản|biển|đảo|rừng|vịnh|bảo tồn|"
        "theo|cho biết|cho hay|đã|đang|sẽ|được|của|và|với|trong|tại|các|những|một|nhiều|mới|lớn|"
        "đến|từ|về|trên|khi|để|có|là|này|đó|cũng|như|sau|trước|hơn|rất|không|người|việc|ngày"
    ),
    "en": (
        "the|of|and|to|in|a|for|on|said|city|port|government|people|year|new|that|with|as|by|is|was|"
        "Vietnam|Vietnamese|northern|province|authorities|officials|investment|investors|foreign|economic|"
        "growth|trade|exports|imports|container|shipping|cargo|logistics|terminal|deep-water|industrial|"
        "zone|factory|manufacturing|electronics|company|billion|million|dollars|percent|project|construction|"
        "infrastructure|bridge|highway|airport|flights|tourism|tourists|island|beach|bay|national|park|"
        "festival|culture|storm|typhoon|flooding|rain|damage|residents|evacuated|police|investigation|"
        "accident|court|sentenced|corruption|officials|party|secretary|chairman|committee|meeting|plan|"
        "development|merger|administrative|reform|communes|wards|environment|pollution|waste|water|"
        "energy|power|plant|LNG|steel|cars|VinFast|electric|vehicles|Korean|Japanese|Chinese|American|"
        "agreement|signed|cooperation|memorandum|market|property|housing|prices|football|club|stadium|"
        "fishermen|seafood|sea|coast|Gulf|Tonkin|South|China|Sea|security|defence|navy|visit|delegation|"
        "according|statement|reported|local|media|state|news|agency|week|month|last|first|more|than|after|"
        "will|has|have|been|are|it|its|from|at|an|this|which|about|also|their|but|not|were|up"
    ),
    "fr": (
        "le|la|les|de|des|du|et|à|en|un|une|pour|sur|dans|par|avec|qui|que|est|a|été|ville|port|"
        "Vietnam|vietnamien|vietnamienne|nord|province|autorités|gouvernement|investissement|investisseurs|"
        "étrangers|économie|croissance|commerce|exportations|conteneurs|transport|maritime|logistique|"
        "terminal|zone|industrielle|usine|entreprise|milliards|millions|dollars|pour cent|projet|pont|"
        "autoroute|aéroport|vols|tourisme|touristes|île|plage|baie|parc|national|festival|culture|"
        "coopération|décentralisée|francophonie|typhon|tempête|inondations|pluie|habitants|police|enquête|"
        "accident|tribunal|corruption|parti|secrétaire|président|comité|réunion|plan|développement|fusion|"
        "réforme|environnement|pollution|déchets|eau|énergie|centrale|acier|voitures|électriques|accord|"
        "signé|visite|délégation|selon|communiqué|presse|agence|semaine|mois|dernier|premier|plus|après|"
        "sera|ont|sont|ses|son|leur|mais|pas|aussi|entre|depuis|lors|cette|ce|histoire|colonial|Tonkin"
    ),
    "ru": (
        "в|и|на|с|по|что|для|из|о|не|как|к|от|года|город|порт|Вьетнам|вьетнамский|вьетнамской|северный|"
        "провинция|власти|правительство|инвестиции|инвесторы|иностранные|экономика|рост|торговля|экспорт|"
        "импорт|контейнер|контейнерный|судоходство|груз|логистика|терминал|промышленная|зона|завод|компания|"
        "миллиардов|миллионов|долларов|процентов|проект|строительство|мост|аэропорт|рейсы|туризм|туристы|"
        "российские|остров|пляж|залив|парк|фестиваль|культура|сотрудничество|Россия|российско|тайфун|шторм|"
        "наводнение|дожди|жители|полиция|расследование|авария|суд|коррупция|партия|секретарь|председатель|"
        "комитет|встреча|план|развитие|реформа|окружающей|среды|загрязнение|энергия|электростанция|сталь|"
        "автомобили|соглашение|подписали|визит|делегация|сообщает|агентство|новости|неделе|месяце|после|"
        "также|будет|были|его|их|это|который|между|более|году|морской|флот|нефть|газ|судно|моряки"
    ),
    "zh": (
        "越南|北部|城市|港口|政府|经济|发展|投资|外国|投资者|贸易|出口|进口|集装箱|航运|货物|物流|码头|深水港|"
        "工业区|工厂|制造|电子|公司|亿美元|万美元|百分之|项目|建设|基础设施|大桥|高速公路|机场|航班|旅游|游客|"
        "岛屿|海滩|海湾|国家公园|节日|文化|合作|中越|友好|台风|暴雨|洪水|居民|警方|调查|事故|法院|腐败|"
        "越共|书记|主席|委员会|会议|计划|合并|行政|改革|环境|污染|能源|电厂|钢铁|汽车|电动|协议|签署|访问|"
        "代表团|据|报道|新华社|记者|本周|本月|去年|今年|以来|以及|已经|将|的|了|在|和|是|与|对|为|中|上|"
        "一|个|这|有|也|等|年|月|日|他|她|我们|他们|表示|指出|认为|称|据悉|目前|同时|进一步|加强|推动"
    ),
    "ja": (
        "ベトナム|北部|都市|港|政府|経済|発展|投資|外国|企業|日系|工業団地|工場|製造|電子|部品|貿易|輸出|"
        "輸入|コンテナ|海運|物流|ターミナル|深水港|億ドル|万ドル|プロジェクト|建設|インフラ|橋|高速道路|空港|"
        "便|観光|観光客|島|ビーチ|湾|国立公園|祭り|文化|協力|日越|台風|大雨|洪水|住民|警察|捜査|事故|裁判所|"
        "汚職|共産党|書記|委員長|会議|計画|合併|行政|改革|環境|汚染|エネルギー|発電所|鉄鋼|自動車|電気自動車|"
        "協定|署名|訪問|代表団|によると|報道|共同通信|日本経済新聞|今週|今月|昨年|今年|の|に|は|を|が|で|と|"
        "も|から|まで|より|した|する|される|している|された|ため|こと|これ|それ|など|年|月|日|約|同|新"
    ),
    "ko": (
        "베트남|북부|도시|항구|정부|경제|발전|투자|외국인|기업|한국|삼성|LG|산업단지|공장|제조|전자|부품|"
        "무역|수출|수입|컨테이너|해운|물류|터미널|억|달러|만|프로젝트|건설|인프라|다리|고속도로|공항|항공편|"
        "관광|관광객|섬|해변|만|국립공원|축제|문화|협력|한베|태풍|폭우|홍수|주민|경찰|수사|사고|법원|부패|"
        "공산당|서기|위원장|회의|계획|합병|행정|개혁|환경|오염|에너지|발전소|철강|자동차|전기차|협정|서명|"
        "방문|대표단|따르면|보도|연합뉴스|이번|주|달|지난해|올해|은|는|이|가|을|를|에|에서|와|과|도|로|"
        "했다|한다|있다|밝혔다|전했다|위해|통해|대한|관련|있는|이후|현지|진출|생산|확대|증설|신규"
    ),
}

# High-frequency function words, drawn uniformly for about a third of the tokens.
FUNCTION_WORDS = {
    "vi": "theo|cho biết|cho hay|đã|đang|sẽ|được|của|và|với|trong|tại|các|những|một|nhiều|mới|lớn|đến|từ|về|"
          "trên|khi|để|có|là|này|đó|cũng|như|sau|trước|hơn|rất|không|người|việc|ngày",
    "en": "the|of|and|to|in|a|for|on|said|that|with|as|by|is|was|will|has|have|been|are|it|its|from|at|an|this|"
          "which|about|also|their|but|not|were|up|more|than|after",
    "fr": "le|la|les|de|des|du|et|à|en|un|une|pour|sur|dans|par|avec|qui|que|est|a|été|sera|ont|sont|ses|son|"
          "leur|mais|pas|aussi|entre|depuis|lors|cette|ce|plus|après|selon",
    "ru": "в|и|на|с|по|что|для|из|о|не|как|к|от|года|также|будет|были|его|их|это|который|между|более|году|после",
    "zh": "的|了|在|和|是|与|对|为|中|上|一|个|这|有|也|等|年|月|日|将|已经|以及",
    "ja": "の|に|は|を|が|で|と|も|から|まで|より|した|する|される|している|された|ため|こと|これ|それ|など",
    "ko": "은|는|이|가|을|를|에|에서|와|과|도|로|했다|한다|있다|밝혔다|전했다|위해|통해|대한|관련|있는",
}
FUNCTION_SHARE = 0.35

# The city's names per language, places, and other cities (for realistic non-city mentions).
CITY_NAMES = {
    "vi": ["Hải Phòng", "TP Hải Phòng", "thành phố Hải Phòng", "HẢI PHÒNG"],
    "en": ["Hai Phong", "Haiphong", "Hai Phong City"],
    "fr": ["Haïphong", "Hai Phong", "Haiphong"],
    "ru": ["Хайфон", "Хайфона", "Хайфоне", "Хайфонский"],
    "zh": ["海防", "海防市", "海防港"],
    "ja": ["ハイフォン", "ハイフォン市", "ハイフォン港"],
    "ko": ["하이퐁", "하이퐁시", "하이퐁항"],
}
PLACES = {
    "vi": ["Cát Bà", "Đồ Sơn", "Lạch Huyện", "Đình Vũ", "Chùa Vẽ", "Cát Bi", "Thủy Nguyên", "Kiến Thụy",
           "Tiên Lãng", "Vĩnh Bảo", "Bạch Long Vĩ", "Lan Hạ", "Tràng Duệ", "Lạch Tray", "Tam Bạc", "sông Cấm",
           "Cát Hải", "Dương Kinh", "Kiến An", "Hải Dương", "Chí Linh"],
    "en": ["Cat Ba", "Do Son", "Lach Huyen", "Dinh Vu", "Cat Bi", "Lan Ha Bay", "Trang Due", "DEEP C"],
    "fr": ["Cat Ba", "Do Son", "baie de Lan Ha", "Lach Huyen"],
    "ru": ["Катба", "Дошон", "Лачхюен"],
    "zh": ["吉婆岛", "涂山", "白龙尾岛", "吉婆国家公园"],
    "ja": ["カットバ島", "ドーソン", "ラックフェン港"],
    "ko": ["깟바섬", "깟바 국립공원", "짱주에 산업단지"],
}
OTHER_PLACES = {
    "vi": ["Hà Nội", "Quảng Ninh", "Hạ Long", "Đà Nẵng", "TP.HCM", "Bắc Ninh", "Thái Bình", "Nam Định"],
    "en": ["Hanoi", "Ho Chi Minh City", "Quang Ninh", "Ha Long Bay", "Da Nang", "Bac Ninh", "Singapore", "Busan"],
    "fr": ["Hanoï", "Hô-Chi-Minh-Ville", "baie d'Along", "Da Nang", "Paris", "Seine-Saint-Denis"],
    "ru": ["Ханой", "Хошимин", "Владивосток", "Дананг", "Москва"],
    "zh": ["河内", "胡志明市", "下龙湾", "广西", "防城港", "岘港"],
    "ja": ["ハノイ", "ホーチミン", "ハロン湾", "ダナン", "東京"],
    "ko": ["하노이", "호찌민", "하롱베이", "다낭", "부산"],
}
OUTLETS = {
    "vi": [("VnExpress", "vnexpress"), ("Tuổi Trẻ", "tuoitre"), ("Thanh Niên", "thanhnien"),
           ("Báo Hải Phòng", "baohaiphong"), ("VietnamPlus", "vietnamplus"), ("Dân Trí", "dantri")],
    "en": [("Reuters", "reuters"), ("VnExpress International", "vnexpress-intl"), ("Bloomberg", "bloomberg"),
           ("The Diplomat", "thediplomat"), ("Nikkei Asia", "nikkei-asia"), ("Vietnam News", "vietnamnews")],
    "fr": [("Le Monde", "lemonde"), ("RFI", "rfi"), ("Le Courrier du Vietnam", "courrier-vn")],
    "ru": [("ТАСС", "tass"), ("РИА Новости", "ria"), ("Вьетнам Плюс", "vietnamplus-ru")],
    "zh": [("新华网", "xinhua"), ("人民网", "people"), ("越南人民报", "nhandan-zh")],
    "ja": [("NHK", "nhk"), ("日本経済新聞", "nikkei"), ("共同通信", "kyodo")],
    "ko": [("연합뉴스", "yonhap"), ("조선일보", "chosun"), ("KBS", "kbs")],
}
DOMESTIC_OUTLETS = {"vnexpress", "tuoitre", "thanhnien", "baohaiphong", "vietnamplus", "dantri", "vnexpress-intl",
                    "vietnamnews", "courrier-vn", "vietnamplus-ru", "nhandan-zh"}
COUNTRY = {"reuters": "GB", "bloomberg": "US", "thediplomat": "US", "nikkei-asia": "JP", "lemonde": "FR",
           "rfi": "FR", "tass": "RU", "ria": "RU", "xinhua": "CN", "people": "CN", "nhk": "JP", "nikkei": "JP",
           "kyodo": "JP", "yonhap": "KR", "chosun": "KR", "kbs": "KR"}
TOPICS = ["economy", "port", "tourism", "infrastructure", "politics", "environment", "accident", "culture",
          "sport", "health", "education", "foreign-affairs"]
SENTIMENTS = (["neutral"] * 5) + (["positive"] * 3) + (["negative"] * 2)
NO_SPACE = {"zh", "ja"}
SENTENCE_END = {"zh": "。", "ja": "。"}


class Generator:
    """Articles ``i = 0, 1, 2...`` in a fixed order for a given seed."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.vocab = {}
        self.function = {lang: words.split("|") for lang, words in FUNCTION_WORDS.items()}
        for lang, words in WORDS.items():
            function = set(self.function[lang])
            items = [w for w in dict.fromkeys(words.split("|")) if w not in function]
            self.rng.shuffle(items)  # which words are frequent is arbitrary but fixed
            weights = [1 / (rank + 1) ** 0.9 for rank in range(len(items))]
            cum, total = [], 0.0
            for w in weights:
                total += w
                cum.append(total)
            self.vocab[lang] = (items, cum)
        self.langs = list(LANGUAGE_MIX)
        self.lang_cum = []
        total = 0.0
        for lang in self.langs:
            total += LANGUAGE_MIX[lang]
            self.lang_cum.append(total)
        self.start = datetime(2023, 1, 1, tzinfo=UTC)
        self.span_minutes = int((datetime(2025, 10, 31, tzinfo=UTC) - self.start).total_seconds() // 60)

    def _sentence(self, lang: str, n: int, inserts: list[str]) -> str:
        words, cum = self.vocab[lang]
        rng = self.rng
        function = self.function[lang]
        tokens = [rng.choice(function) if rng.random() < FUNCTION_SHARE else w
                  for w in rng.choices(words, cum_weights=cum, k=n)]
        for term in inserts:
            tokens.insert(self.rng.randrange(len(tokens) + 1), term)
        if lang in NO_SPACE:
            return "".join(tokens) + SENTENCE_END[lang]
        text = " ".join(tokens)
        return text[0].upper() + text[1:] + "."

    def article(self, i: int) -> Article:
        rng = self.rng
        lang = rng.choices(self.langs, cum_weights=self.lang_cum)[0]
        names, places, others = CITY_NAMES[lang], PLACES[lang], OTHER_PLACES[lang]
        mentions_city = rng.random() < 0.65
        n_sentences = rng.randint(5, 18)
        lengths = (12, 26) if lang not in NO_SPACE else (14, 30)
        # where the city and its places go: the title for a third, the body otherwise
        title_inserts: list[str] = []
        terms: list[str] = []
        if mentions_city:
            name = rng.choice(names)
            terms.append(name)
            if rng.random() < 0.35:
                title_inserts.append(name)
        place = rng.choice(places) if (not mentions_city or rng.random() < 0.4) else None
        if place:
            terms.append(place)
            if not title_inserts and rng.random() < 0.3:
                title_inserts.append(place)
        body_inserts: list[list[str]] = [[] for _ in range(n_sentences)]
        for term in terms:
            for _ in range(rng.randint(1, 4)):
                body_inserts[rng.randrange(n_sentences)].append(term)
        if rng.random() < 0.25:
            body_inserts[rng.randrange(n_sentences)].append(rng.choice(others))
        title = self._sentence(lang, rng.randint(6, 12), title_inserts).rstrip(".。")
        lead = self._sentence(lang, rng.randint(*lengths), [])
        sep = "" if lang in NO_SPACE else " "
        paragraphs, current = [], []
        for k in range(n_sentences):
            current.append(self._sentence(lang, rng.randint(*lengths), body_inserts[k]))
            if len(current) >= rng.randint(2, 4):
                paragraphs.append(sep.join(current))
                current = []
        if current:
            paragraphs.append(sep.join(current))
        outlet, source = rng.choice(OUTLETS[lang])
        domestic = source in DOMESTIC_OUTLETS
        published = self.start + timedelta(minutes=rng.randrange(self.span_minutes))
        url = f"https://{source}.example/{published:%Y/%m/%d}/article-{i}"
        aid = hashlib.sha256(url.encode()).hexdigest()[:20]
        return Article(
            id=aid, url=url, source_id=f"{source}-rss", title=title, text="\n\n".join(paragraphs), lead=lead,
            language=lang, language_probability=round(rng.uniform(0.9, 1.0), 4), outlet=outlet,
            country="VN" if domestic else COUNTRY.get(source), scope="domestic" if domestic else "foreign",
            published_at=published, fetched_at=published + timedelta(minutes=rng.randint(5, 240)),
            relevance_score=round(rng.uniform(0.5, 1.0), 4), relevance_terms=terms,
            content_hash=hashlib.sha1(f"text-{i}".encode()).hexdigest()[:20], story_id=aid,
            topics=rng.sample(TOPICS, rng.randint(1, 2)), sentiment=rng.choice(SENTIMENTS),
            sentiment_score=round(rng.uniform(-1, 1), 3),
        )

    def articles(self, n: int) -> Iterator[Article]:
        for i in range(n):
            yield self.article(i)
