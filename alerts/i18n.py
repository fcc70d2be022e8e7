"""Message catalogues for what alerts say to people: Vietnamese first, English on request.

Every string a person reads in an alert (subject, headings, labels, severity and language
names) lives here, keyed by a message id, so that templates and code never hold prose.
Label names of topics and sensitive themes come from ``config/topics.yaml`` (the taxonomy
analysts edit) through ``load_label_names``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

MESSAGES: dict[str, dict[str, str]] = {
    "vi": {
        "subject.match": "[hpmon · {severity}] {rule}: {title}",
        "subject.more": " (và {count} báo khác)",
        "subject.spike": "[hpmon · {severity}] {rule}: {current} bài trong {hours} giờ (bình thường ~{baseline})",
        "heading.match": "Cảnh báo: {rule}",
        "heading.spike": "Cảnh báo tăng đột biến: {rule}",
        "intro.match": "hpmon phát hiện một bài báo khớp với quy tắc cảnh báo «{rule}».",
        "intro.spike": "Số bài {what} trong {hours} giờ qua cao bất thường so với mức nền gần đây.",
        "spike.what": "khớp quy tắc",
        "spike.current": "Trong {hours} giờ qua",
        "spike.baseline": "Mức nền ({days} ngày trước đó, quy về {hours} giờ)",
        "spike.articles": "{count} bài",
        "spike.baseline_value": "~{value} bài (tổng {total} bài trong {days} ngày)",
        "spike.factor": "Ngưỡng: gấp {factor} lần mức nền và ít nhất {min_count} bài",
        "spike.samples": "Một số bài gần đây",
        "field.title": "Tiêu đề (nguyên văn)",
        "field.language": "Ngôn ngữ",
        "field.outlet": "Báo",
        "field.country": "Quốc gia",
        "field.scope": "Phạm vi",
        "field.published": "Thời gian đăng",
        "field.severity": "Mức độ",
        "field.rule": "Quy tắc",
        "field.themes": "Chủ đề nhạy cảm",
        "field.topics": "Lĩnh vực",
        "field.sentiment": "Sắc thái",
        "field.risk": "Điểm rủi ro",
        "field.snippet": "Trích đoạn (từ khớp được tô đậm)",
        "field.reasons": "Lý do đánh giá rủi ro",
        "field.link": "Xem bài trong hpmon",
        "field.original": "Bài gốc",
        "field.more": "Cùng câu chuyện, {count} báo khác",
        "field.more_list": "Các bản đăng khác của cùng câu chuyện",
        "footer": "Thư gửi tự động bởi hpmon theo quy tắc «{rule}». Mã cảnh báo: {key}.",
        "unknown": "không rõ",
        "none": "—",
        "scope.foreign": "báo nước ngoài",
        "scope.domestic": "báo trong nước",
        "sentiment.negative": "tiêu cực",
        "sentiment.neutral": "trung tính",
        "sentiment.positive": "tích cực",
        "severity.low": "THẤP",
        "severity.medium": "TRUNG BÌNH",
        "severity.high": "CAO",
        "severity.critical": "KHẨN",
        "reason.negative_sentiment": "Sắc thái tiêu cực",
        "reason.outlet_profile": "Hồ sơ cơ quan báo chí",
        "reason.divergence": "Khác biệt so với các bài cùng câu chuyện",
        "reason.fact_conflict": "Mâu thuẫn với số liệu chính thức",
        "reason.contested_naming": "Tên gọi gây tranh chấp",
        "reason.theme": "Chủ đề nhạy cảm: {theme}",
    },
    "en": {
        "subject.match": "[hpmon · {severity}] {rule}: {title}",
        "subject.more": " (and {count} more outlets)",
        "subject.spike": "[hpmon · {severity}] {rule}: {current} articles in {hours} h (usually ~{baseline})",
        "heading.match": "Alert: {rule}",
        "heading.spike": "Volume spike: {rule}",
        "intro.match": "hpmon found an article matching the alert rule “{rule}”.",
        "intro.spike": "The number of {what} in the last {hours} hours is far above its recent baseline.",
        "spike.what": "articles matching the rule",
        "spike.current": "Last {hours} hours",
        "spike.baseline": "Baseline (previous {days} days, per {hours} hours)",
        "spike.articles": "{count} articles",
        "spike.baseline_value": "~{value} articles ({total} in {days} days)",
        "spike.factor": "Threshold: {factor}× the baseline and at least {min_count} articles",
        "spike.samples": "Recent articles",
        "field.title": "Title (original)",
        "field.language": "Language",
        "field.outlet": "Outlet",
        "field.country": "Country",
        "field.scope": "Scope",
        "field.published": "Published",
        "field.severity": "Severity",
        "field.rule": "Rule",
        "field.themes": "Sensitive themes",
        "field.topics": "Topics",
        "field.sentiment": "Sentiment",
        "field.risk": "Risk score",
        "field.snippet": "Snippet (matched terms highlighted)",
        "field.reasons": "Risk reasons",
        "field.link": "Open in hpmon",
        "field.original": "Original article",
        "field.more": "Same story, {count} more outlets",
        "field.more_list": "Other copies of the same story",
        "footer": "Sent automatically by hpmon for the rule “{rule}”. Alert key: {key}.",
        "unknown": "unknown",
        "none": "—",
        "scope.foreign": "foreign press",
        "scope.domestic": "domestic press",
        "sentiment.negative": "negative",
        "sentiment.neutral": "neutral",
        "sentiment.positive": "positive",
        "severity.low": "LOW",
        "severity.medium": "MEDIUM",
        "severity.high": "HIGH",
        "severity.critical": "CRITICAL",
        "reason.negative_sentiment": "Negative sentiment",
        "reason.outlet_profile": "Outlet profile",
        "reason.divergence": "Diverges from other articles of the story",
        "reason.fact_conflict": "Contradicts reference figures",
        "reason.contested_naming": "Contested naming",
        "reason.theme": "Sensitive theme: {theme}",
    },
}

LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "vi": {"vi": "tiếng Việt", "en": "tiếng Anh", "zh": "tiếng Trung", "ja": "tiếng Nhật", "ko": "tiếng Hàn",
           "ru": "tiếng Nga", "fr": "tiếng Pháp", "de": "tiếng Đức", "th": "tiếng Thái", "es": "tiếng Tây Ban Nha"},
    "en": {"vi": "Vietnamese", "en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean",
           "ru": "Russian", "fr": "French", "de": "German", "th": "Thai", "es": "Spanish"},
}

COUNTRY_NAMES: dict[str, dict[str, str]] = {
    "vi": {"VN": "Việt Nam", "CN": "Trung Quốc", "US": "Hoa Kỳ", "GB": "Anh", "JP": "Nhật Bản", "KR": "Hàn Quốc",
           "RU": "Nga", "FR": "Pháp", "DE": "Đức", "SG": "Singapore", "TH": "Thái Lan", "AU": "Úc",
           "HK": "Hồng Kông", "TW": "Đài Loan", "IN": "Ấn Độ", "LA": "Lào", "KH": "Campuchia", "QA": "Qatar",
           "MY": "Malaysia", "PH": "Philippines", "ID": "Indonesia", "CA": "Canada"},
    "en": {"VN": "Vietnam", "CN": "China", "US": "United States", "GB": "United Kingdom", "JP": "Japan",
           "KR": "South Korea", "RU": "Russia", "FR": "France", "DE": "Germany", "SG": "Singapore",
           "TH": "Thailand", "AU": "Australia", "HK": "Hong Kong", "TW": "Taiwan", "IN": "India", "LA": "Laos",
           "KH": "Cambodia", "QA": "Qatar", "MY": "Malaysia", "PH": "Philippines", "ID": "Indonesia",
           "CA": "Canada"},
}


def pick_language(language: str | None) -> str:
    """A catalogue language: ``language`` if we have it, else Vietnamese."""
    return language if language in MESSAGES else DEFAULT_LANGUAGE


class Translator:
    """The strings of one language: ``tr("field.title")``, ``tr("subject.more", count=4)``,
    plus names of languages, countries, topics and themes (falling back to the code)."""

    def __init__(self, language: str | None, labels: dict[str, dict[str, str]] | None = None) -> None:
        self.language = pick_language(language)
        self._messages = MESSAGES[self.language]
        self._labels = labels or {}

    def __call__(self, message: str, /, **values: Any) -> str:
        template = self._messages.get(message) or MESSAGES[DEFAULT_LANGUAGE].get(message) or message
        return template.format(**values) if values else template

    def language_name(self, code: str | None) -> str:
        if not code:
            return self("unknown")
        return LANGUAGE_NAMES[self.language].get(code, code)

    def country_name(self, code: str | None) -> str:
        if not code:
            return self("unknown")
        return COUNTRY_NAMES[self.language].get(code.upper(), code)

    def label_name(self, label: str, kind: str = "theme") -> str:
        """The display name of a sensitive theme (``kind="theme"``) or topic (``"topic"``), its key if unknown."""
        names = self._labels.get(f"{kind}:{label}") or {}
        return names.get(self.language) or names.get(DEFAULT_LANGUAGE) or label

    def severity(self, severity: str) -> str:
        return self(f"severity.{severity}")

    def reason_kind(self, kind: str) -> str:
        """The display name of a risk reason kind (``theme:<name>``, ``negative_sentiment``...)."""
        if kind.startswith("theme:"):
            return self("reason.theme", theme=self.label_name(kind.split(":", 1)[1]))
        key = f"reason.{kind}"
        return self(key) if key in self._messages else kind


def load_label_names(taxonomy_path: Path | None) -> dict[str, dict[str, str]]:
    """Display names {"topic:<label>" | "theme:<label>": {vi, en}} of topics and sensitive themes from the
    taxonomy file (``config/topics.yaml``); empty when the file is absent or unreadable, since
    an alert must still go out with label keys rather than not at all."""
    if taxonomy_path is None or not taxonomy_path.is_file():
        return {}
    try:
        raw = yaml.safe_load(taxonomy_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    names: dict[str, dict[str, str]] = {}
    for section, kind in (("topics", "topic"), ("sensitive_themes", "theme")):
        for entry in raw.get(section) or []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), dict) and entry.get("label"):
                names[f"{kind}:{entry['label']}"] = {str(k): str(v) for k, v in entry["name"].items()}
    return names
