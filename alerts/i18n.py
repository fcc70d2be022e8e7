"""Message catalogues for what alerts say to people: Vietnamese first, English on request.

Every string a person reads in an alert (subject, headings, labels, severity and language
names) lives here, keyed by a message id, so that templates and code never hold prose.
Label names of topics and sensitive themes come from ``config/topics.yaml`` (the taxonomy
analysts edit) through ``load_label_names``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_percent

from hpbase.configfiles import ConfigFileError, RiskConfig, TaxonomyLabel, TopicsFile

log = logging.getLogger(__name__)

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
        "field.machine_translation": "Bản dịch máy",
        "field.language": "Ngôn ngữ",
        "field.outlet": "Báo",
        "field.country": "Quốc gia",
        "field.scope": "Phạm vi",
        "field.published": "Thời gian đăng",
        "field.severity": "Mức độ",
        "field.rule": "Quy tắc",
        "field.themes": "Chủ đề nhạy cảm",
        "field.topics": "Chủ đề",
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
        "reason.outlet_profile": "Đặc điểm cơ quan báo chí",
        "reason.divergence": "Khác biệt so với các bài cùng câu chuyện",
        "reason.fact_conflict": "Mâu thuẫn với số liệu chính thức",
        "reason.contested_naming": "Tên gọi gây tranh chấp",
        "reason.theme": "Chủ đề nhạy cảm: {theme}",
        "reason.other": "Lý do khác",
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
        "field.machine_translation": "Machine translation",
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
        "reason.other": "Other reason",
    },
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
        return language_name(code, self.language) if code else self("unknown")

    def country_name(self, code: str | None) -> str:
        return country_name(code, self.language) if code else self("unknown")

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
        return self(key) if key in self._messages else self("reason.other")


def load_label_names(taxonomy_path: Path | None) -> dict[str, dict[str, str]]:
    """Display names {"topic:<label>" | "theme:<label>": {vi, en}} of topics and sensitive themes from the
    taxonomy file (``config/topics.yaml``); empty when the file is absent or unreadable, since
    an alert must still go out with label keys rather than not at all."""
    if taxonomy_path is None:
        return {}
    try:
        taxonomy = TopicsFile.read(taxonomy_path)
    except ConfigFileError:
        return {}
    names: dict[str, dict[str, str]] = {}
    for labels, kind in ((taxonomy.topics, "topic"), (taxonomy.themes, "theme")):
        for entry in labels:
            if entry.name is not None:
                names[f"{kind}:{entry.label}"] = dict(entry.name)
    return names


@dataclass
class Taxonomy:
    """Display names {label: {lang: name}} of topics, tones and sensitive themes, and the topics' order."""

    topics: dict[str, dict[str, str]] = field(default_factory=dict)
    sentiments: dict[str, dict[str, str]] = field(default_factory=dict)
    themes: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def topic_order(self) -> list[str]:
        return list(self.topics)

    def name(self, kind: str, label: str, lang: str) -> str:
        """The name of ``label`` (``kind``: topics, sentiments or themes) in ``lang``, else in
        Vietnamese, else its machine key."""
        names = getattr(self, kind).get(label) or {}
        return names.get(lang) or names.get(DEFAULT_LANGUAGE) or label


def load_taxonomy(path: Path) -> Taxonomy:
    """The label names of ``config/topics.yaml``, for the digest and the web app. An empty taxonomy
    (labels shown by their key) when the file is missing: a digest must still go out."""
    if not path.is_file():
        log.warning("no taxonomy at %s: labels are shown by their key", path)
        return Taxonomy()
    taxonomy = TopicsFile.read(path)

    def names(labels: tuple[TaxonomyLabel, ...]) -> dict[str, dict[str, str]]:
        return {entry.label: dict(entry.name or {}) for entry in labels}

    return Taxonomy(topics=names(taxonomy.topics), sentiments=names(taxonomy.sentiments),
                    themes=names(taxonomy.themes))



# -- the one presentation of risk, dates, countries, languages and risk evidence ---------------
# Used by the alert e-mails, the digest (alerts.digest.i18n) and the web app (web.render), so a
# risk reads "72/100 (cao)" everywhere and a date "ngày 24 tháng 11 năm 2025".

# The bands of config/risk.yaml (risk.levels) — used only when an article carries no level.
RISK_BANDS = (("high", RiskConfig.high), ("medium", RiskConfig.medium))
RISK_LEVELS = {
    "vi": {"low": "thấp", "medium": "trung bình", "high": "cao"},
    "en": {"low": "low", "medium": "medium", "high": "high"},
}


def risk_level(score: float | None, level: str | None = None) -> str | None:
    """``low`` / ``medium`` / ``high``: the article's own level when it has one, else its band."""
    if level in RISK_LEVELS["en"]:
        return level
    if score is None:
        return None
    return next((name for name, floor in RISK_BANDS if score >= floor), "low")


def risk_points(value: float) -> int:
    """A score or weight in [0, 1] as points out of 100 (0.72 → 72)."""
    return int(round(float(value) * 100))


def format_risk(score: float | None, language: str | None, level: str | None = None) -> str:
    """The risk as people read it: ``72/100 (cao)`` / ``72/100 (high)``; "—" without a score."""
    if score is None:
        return "—"
    lang = pick_language(language)
    name = RISK_LEVELS[lang].get(risk_level(score, level) or "", "")
    return f"{risk_points(score)}/100" + (f" ({name})" if name else "")


def official_date(day: date, language: str | None) -> str:
    """The date in the official style: ``ngày 04 tháng 02 năm 2026`` (a day below 10 and the months
    1 and 2 take a leading zero, Nghị định 30/2020/NĐ-CP) / ``4 February 2026``."""
    if pick_language(language) == "vi":
        return format_date(day, "'ngày' dd 'tháng' " + ("MM" if day.month < 3 else "M") + " 'năm' y", locale="vi")
    return format_date(day, "d MMMM y", locale="en")


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(pick_language(language))


def country_name(code: str | None, language: str | None) -> str:
    """The country's name in ``language`` from CLDR (Babel); an unknown code is kept."""
    if not code:
        return ""
    return _locale(pick_language(language)).territories.get(code.upper(), code)


def language_name(code: str | None, language: str | None) -> str:
    """The language's name in ``language`` from CLDR, capitalised (``Tiếng Trung``)."""
    if not code:
        return ""
    names = _locale(pick_language(language)).languages
    name = names.get(code) or names.get(code.split("-")[0]) or code
    return name[:1].upper() + name[1:]


EVIDENCE: dict[str, dict[str, str]] = {
    "vi": {
        "field.title": "tiêu đề", "field.text": "nội dung", "field.lead": "sapo",
        "term": "«{surface}» ({field}, mức độ {severity})", "rebutted": "đã bác bỏ: «{text}»",
        "sentiment": "xác suất {p}",
        "profile.state_media_claimant": "truyền thông nhà nước của một bên tranh chấp",
        "profile.low_reliability": "độ tin cậy thấp", "profile.anonymous": "nguồn ẩn danh",
        "profile.state_media": "truyền thông nhà nước", "profile.independent": "báo độc lập",
        "profile.other": "đặc điểm khác",
        "divergence": "số liệu {mine}, trong khi {n} bài khác cùng câu chuyện ({outlets}) đưa {others}",
        "divergence.score": "mức khác biệt {points}/100",
        "fact": "{label}: bài viết ghi «{surface}», số liệu chính thức {reference} {unit} ({source}), lệch {deviation}",
    },
    "en": {
        "field.title": "title", "field.text": "text", "field.lead": "opening",
        "term": "“{surface}” ({field}, severity {severity})", "rebutted": "rebutted: “{text}”",
        "sentiment": "probability {p}",
        "profile.state_media_claimant": "state media of a claimant", "profile.low_reliability": "low reliability",
        "profile.anonymous": "anonymous source", "profile.state_media": "state media",
        "profile.independent": "independent outlet", "profile.other": "other profile",
        "divergence": "figures {mine} where {n} other articles of the story ({outlets}) report {others}",
        "divergence.score": "divergence {points}/100",
        "fact": "{label}: the article says “{surface}”, reference {reference} {unit} ({source}), off by {deviation}",
    },
}
_TERM = re.compile(r'"(?P<surface>[^"]*)" \((?P<field>[a-z_]+) \d+-\d+, severity (?P<severity>\d+)'
                   r'(?:, rebutted: (?P<rebuttal>[^)]*))?\)')
_FIELD_MARK = re.compile(r"\((title|text|lead)\)")  # a hand-written evidence: «term» (title)
_PROBABILITY = re.compile(r"\(p=(?P<p>[0-9.]+)\)")
_DIVERGENCE = re.compile(r"figures (?P<mine>.*) where (?P<n>\d+) other articles of the story \((?P<outlets>.*)\)"
                         r" report (?P<others>.*)$")
# classifiers.facts.FactConflict.explain()
_FACT = re.compile(r'^(?P<label>.*?): article says "(?P<surface>[^"]*)" \(= [^)]*\); reference(?: for \d+)? '
                   r"(?P<reference>[\d,.]+) (?P<unit>.*?) \((?P<source>[^()]*?)(?:, [^()]*)?\); "
                   r"off by (?P<deviation>[+-]?\d+)%")
_DIVERGENCE_SCORE = re.compile(r"diverges from its story \((?P<d>[0-9.]+)\)")


def reason_evidence(kind: str, evidence: str, language: str | None, data: dict[str, Any] | None = None) -> str:
    """A risk reason's evidence in the reader's words. The scorer (``classifiers.risk``) writes it
    for analysts (``"East Sea" (title 45-53, severity 2)``, ``sentiment negative (p=0.91)``); the
    quoted terms and figures stay as written, everything around them is translated. Evidence in
    no known shape (hand-made, older) is shown as it is."""
    lang = pick_language(language)
    words = EVIDENCE[lang]
    data = data or {}
    evidence = evidence or ""
    if kind.startswith("theme:") or kind == "contested_naming":
        found: dict[str, dict[str, Any]] = {}  # one line per term: where it is, its strongest severity
        for m in _TERM.finditer(evidence):
            term = found.setdefault(m["surface"], {"fields": [], "severity": 0, "rebuttals": []})
            name = words.get(f"field.{m['field']}", words["field.text"])
            if name not in term["fields"]:
                term["fields"].append(name)
            term["severity"] = max(term["severity"], int(m["severity"]))
            if m["rebuttal"] and m["rebuttal"] not in term["rebuttals"]:
                term["rebuttals"].append(m["rebuttal"])
        lines = []
        for surface, term in found.items():
            text = words["term"].format(surface=surface, field=", ".join(term["fields"]), severity=term["severity"])
            lines += [text] + [words["rebutted"].format(text=r) for r in term["rebuttals"]]
        return "; ".join(lines) if lines else _FIELD_MARK.sub(lambda m: f"({words['field.' + m[1]]})", evidence)
    if kind == "negative_sentiment":
        m = _PROBABILITY.search(evidence)
        p = data.get("probability", float(m["p"]) if m else None)
        return words["sentiment"].format(p=format_percent(float(p), format="#,##0%", locale=lang)) \
            if p is not None else ""
    if kind == "outlet_profile":
        profile = str(data.get("profile") or evidence.rsplit(": ", 1)[-1])
        outlet = evidence.rsplit(": ", 1)[0] if ": " in evidence else ""
        name = words.get(f"profile.{profile}", words["profile.other"])
        return f"{outlet}: {name}" if outlet else name
    if kind == "divergence":
        m = _DIVERGENCE.match(evidence)
        if m:
            return words["divergence"].format(**m.groupdict())
        m = _DIVERGENCE_SCORE.match(evidence)
        d = data.get("divergence", float(m["d"]) if m else None)
        return words["divergence.score"].format(points=risk_points(d)) if d is not None else evidence
    if kind == "fact_conflict" and not data.get("surface") and (m := _FACT.match(evidence)):
        data = {"label": m["label"], "surface": m["surface"], "unit": m["unit"], "reference_source": m["source"],
                "reference_value": float(m["reference"].replace(",", "")), "deviation": int(m["deviation"]) / 100}
    if kind == "fact_conflict" and data.get("surface") and data.get("reference_value") is not None:
        try:
            return words["fact"].format(
                label=data.get("label", ""), surface=data["surface"], unit=data.get("unit", ""),
                reference=format_decimal_plain(float(data["reference_value"]), lang),
                source=data.get("reference_source", ""),
                deviation=format_percent(float(data.get("deviation") or 0), format="+#,##0%;-#,##0%", locale=lang))
        except (TypeError, ValueError):
            return evidence
    return evidence


def format_decimal_plain(value: float, language: str) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, format="#,##0.##", locale=pick_language(language))
