"""Item search the way people type: Chinese, pinyin ("hukou"), initials ("hkb"), everyday names
(户口本 → 户口簿, 驾照 → 机动车驾驶证), homophone slips of the input method (户口薄, 身分证) and
small typos ("hukuo", "yingyezhizao"). Matches are grouped by how well they match, then ranked by
how often the item is used (its cases), then by code.

The index (pinyin of every active item's name and search keywords) lives in memory per process and
is rebuilt when an item changes (signals) or the table's fingerprint moves (bulk loads).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save
from pypinyin import Style, lazy_pinyin

from services.models import Item

# Groups of names for the same thing. A query naming one also searches the others.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("身份证", "居民身份证", "二代证"),
    ("户口本", "户口簿", "居民户口簿"),
    ("驾照", "驾驶证", "机动车驾驶证"),
    ("营业执照", "企业设立登记", "注册公司", "开公司"),
    ("社保", "社会保障", "社会保险"),
    ("社保卡", "社会保障卡"),
    ("医保", "医疗保险", "基本医疗保险"),
    ("公积金", "住房公积金"),
    ("低保", "最低生活保障"),
    ("房产证", "不动产权证书", "不动产登记", "房本"),
    ("过户", "转移登记"),
    ("结婚证", "婚姻登记证"),
    ("出生证", "出生医学证明"),
    ("准生证", "生育服务证", "生育登记"),
    ("港澳通行证", "往来港澳通行证"),
    ("台湾通行证", "往来台湾通行证", "台胞证"),
    ("无犯罪证明", "无犯罪记录证明", "良民证"),
    ("残疾证", "残疾人证"),
    ("个税", "个人所得税"),
    ("教资", "教师资格"),
    ("退休金", "养老金"),
    ("失业金", "失业保险金"),
    ("环评", "环境影响"),
    ("网约车", "网络预约出租汽车"),
)

_HAN = re.compile(r"[\u3400-\u9fff]")
_ASCII_WORD = re.compile(r"^[a-z0-9\-]+$")


def _norm(text: str) -> str:
    # Full-width letters and digits (common on phones' Chinese keyboards) become ASCII.
    return unicodedata.normalize("NFKC", text or "").strip().lower()


_NON_ALNUM = re.compile(r"[^a-z0-9]")


def _py(text: str) -> str:
    # Letters and digits in a name (KTV, SC) are kept as typed; punctuation is dropped.
    return _NON_ALNUM.sub("", "".join(lazy_pinyin(text)).lower())


def _initials(text: str) -> str:
    return _NON_ALNUM.sub("", "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).lower())


@dataclass(frozen=True)
class Entry:
    pk: int
    code: str
    name: str
    keywords: tuple[str, ...]
    name_py: str
    name_initials: str
    kw_py: tuple[str, ...]
    kw_initials: tuple[str, ...]


def _entry(pk: int, code: str, name: str, keywords: str) -> Entry:
    words = tuple(w for w in re.split(r"[\s,，、;；]+", keywords or "") if w)
    return Entry(
        pk=pk,
        code=code.lower(),
        name=name,
        keywords=words,
        name_py=_py(name),
        name_initials=_initials(name),
        kw_py=tuple(_py(w) for w in words),
        kw_initials=tuple(_initials(w) for w in words),
    )


class _Index:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fingerprint: tuple[Any, ...] | None = None
        self.entries: list[Entry] = []

    def invalidate(self, **_kwargs: Any) -> None:
        with self.lock:
            self.fingerprint = None

    def get(self) -> list[Entry]:
        fp = tuple(Item.objects.filter(is_active=True).aggregate(n=Count("id"), m=Max("id")).values())
        with self.lock:
            if fp == self.fingerprint:
                return self.entries
        rows = Item.objects.filter(is_active=True).values_list("pk", "code", "name", "keywords")
        entries = [_entry(*row) for row in rows]
        with self.lock:
            self.entries, self.fingerprint = entries, fp
        return entries


_index = _Index()
post_save.connect(_index.invalidate, sender=Item, dispatch_uid="portal-search-item-save")
post_delete.connect(_index.invalidate, sender=Item, dispatch_uid="portal-search-item-delete")
m2m_changed.connect(_index.invalidate, sender=Item.zones.through, dispatch_uid="portal-search-item-zones")

USAGE_KEY = "citizen_portal:item-usage"


def item_usage() -> dict[int, int]:
    """Cases per item (all time): how often it is used. Cached briefly: one GROUP BY for all."""
    usage: dict[int, int] | None = cache.get(USAGE_KEY)
    if usage is None:
        from workflows.models import Case

        usage = dict(Case.objects.values_list("item_id").annotate(n=Count("id")).values_list("item_id", "n"))
        cache.set(USAGE_KEY, usage, 300)
    return usage


def approx_distance(pattern: str, text: str) -> int:
    """Fewest edits turning `pattern` into some substring of `text` (Sellers' algorithm)."""
    if not pattern:
        return 0
    prev = [0] * (len(text) + 1)  # a match may start anywhere: row 0 is all zeros
    for i, pc in enumerate(pattern, start=1):
        cur = [i] + [0] * len(text)
        for j, tc in enumerate(text, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (pc != tc))
        prev = cur
    return min(prev)


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ac in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, bc in enumerate(b, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ac != bc))
        prev = cur
    return prev[-1]


# Typo matching costs len(query) × len(text) per item: beyond this length a query is not a typed
# word any more, and only exact matching runs (a 100-character query must not cost a second).
MAX_FUZZY_LENGTH = 24


def _allowed_typos(pattern: str) -> int:
    n = len(pattern)
    return 0 if n < 5 or n > MAX_FUZZY_LENGTH else 1 if n < 10 else 2


@dataclass(frozen=True)
class Word:
    text: str
    py: str
    initials: str


_vocab_lock = threading.Lock()
_vocab: tuple[tuple[Any, ...] | None, list[Word]] = (None, [])


def _vocabulary(entries: list[Entry]) -> list[Word]:
    """Everyday names people search with: the synonym groups and every item's keywords."""
    global _vocab
    key = (id(entries), len(entries))
    with _vocab_lock:
        if _vocab[0] == key:
            return _vocab[1]
    texts = {name for group in SYNONYMS for name in group}
    texts.update(kw for e in entries for kw in e.keywords if _HAN.search(kw))
    words = [Word(t, _py(t), _initials(t)) for t in sorted(texts)]
    with _vocab_lock:
        _vocab = (key, words)
    return words


def _with_synonyms(terms: list[str]) -> list[str]:
    """The terms and their synonyms (a group applies when a term contains one of its names)."""
    out = list(terms)
    for term in terms:
        for group in SYNONYMS:
            hit = next((name for name in group if name in term), None)
            if hit is None:
                continue
            for other in group:
                t = term.replace(hit, other)
                if t not in out:
                    out.append(t)
    return out


def _han_terms(q: str, han: bool, vocab: list[Word]) -> list[str]:
    """What a query means in Chinese: itself, or the everyday names it spells in pinyin / initials,
    or — when nothing matches exactly — the name it is one slip away from."""
    if han:
        # Same sound, other characters (营业执找 for 营业执照): the everyday name it sounds like.
        py = _py(q)
        base = [q] + [w.text for w in vocab if w.py == py and w.text != q]
    else:
        base = [w.text for w in vocab if q == w.py or (len(q) >= 2 and q == w.initials)]
        budget = _allowed_typos(q)
        if not base and budget:
            close = [(levenshtein(q, w.py), w.text) for w in vocab if abs(len(w.py) - len(q)) <= budget]
            best = min((d for d, _t in close), default=budget + 1)
            base = [t for d, t in close if d == best and d <= budget]
    return _with_synonyms(base)


def _han_typo_terms(q: str, vocab: list[Word]) -> list[str]:
    """A Chinese query with one wrong character (户口薄 for 户口簿): the names one edit away."""
    if not 3 <= len(q) <= MAX_FUZZY_LENGTH:
        return []
    return _with_synonyms([w.text for w in vocab if abs(len(w.text) - len(q)) <= 1 and levenshtein(q, w.text) == 1])


Score = tuple[int, int]


def _first(terms: list[str], texts: tuple[str, ...] | list[str]) -> int | None:
    found = [text.find(t) for t in terms for text in texts if t in text]
    return min(found) if found else None


def _han_tier(e: Entry, terms: list[str]) -> Score | None:
    if not terms:
        return None
    if e.name in terms:
        return (0, 0)
    pos = _first(terms, [e.name])
    if pos is not None:
        return (1 if pos == 0 else 2, pos)
    pos = _first(terms, e.keywords)
    if pos is not None:
        return (3, pos)
    return None


def _pinyin_tier(e: Entry, py: str, han: bool) -> Score | None:
    """Pinyin, initials or an item code typed in Latin letters; for a Chinese query, the same sound
    written with another character (身分证 for 身份证)."""
    if han:
        if len(py) >= 4:
            if py in e.name_py:
                return (4, e.name_py.find(py))
            pos = _first([py], e.kw_py)
            if pos is not None:
                return (5, pos)
        return None
    if len(py) >= 4 and any(c.isdigit() for c in py) and py in e.code:
        return (2, 0)
    if py in e.name_py and (len(py) >= 4 or e.name_py.startswith(py)):
        return (4, e.name_py.find(py))
    if len(py) >= 4:
        pos = _first([py], e.kw_py)
        if pos is not None:
            return (5, pos)
    if 2 <= len(py) <= 8:
        if e.name_initials.startswith(py):
            return (6, 0)
        if any(kw.startswith(py) for kw in e.kw_initials):
            return (6, 1)
    if 3 <= len(py) <= 8 and py in e.name_initials:
        return (7, e.name_initials.find(py))
    return None


def _fuzzy_tier(e: Entry, q: str, py: str, han: bool) -> Score | None:
    """Last resort, only when nothing matched: a small typo against the name (or keywords)."""
    if han and 3 <= len(q) <= MAX_FUZZY_LENGTH and approx_distance(q, e.name) <= 1:
        return (8, 0)
    budget = _allowed_typos(py)
    if budget:
        d = approx_distance(py, e.name_py)
        if d <= budget:
            return (8, d)
        if any(approx_distance(py, kw) <= budget for kw in e.kw_py if len(kw) >= len(py) - budget):
            return (9, 0)
    return None


def rank(q: str, *, candidates: set[int] | None = None) -> list[int]:
    """Ids of the active items matching `q`, best first. `candidates` restricts the result (e.g. to
    a zone's items) without changing the order."""
    q = _norm(q)
    if not q:
        return []
    han = bool(_HAN.search(q))
    compact = re.sub(r"[\s'’·]+", "", q)
    py = _py(compact) if han else _NON_ALNUM.sub("", compact)
    everything = _index.get()  # one fingerprint check per search
    entries = everything if candidates is None else [e for e in everything if e.pk in candidates]
    vocab = _vocabulary(everything)
    terms = _han_terms(compact, han, vocab)
    usage = item_usage()

    def run(score_of: Any) -> list[int]:
        scored: list[tuple[int, int, int, int, str, int]] = []
        for e in entries:
            score = score_of(e)
            if score is not None:
                tier, pos = score
                # Within a tier: the most used first; then where the match sits, the shorter name.
                scored.append((tier, -usage.get(e.pk, 0), pos, len(e.name), e.code, e.pk))
        scored.sort()
        return [row[-1] for row in scored]

    def exact(e: Entry) -> Score | None:
        a, b = _han_tier(e, terms), _pinyin_tier(e, py, han)
        return min(a, b) if a is not None and b is not None else a or b

    found = run(exact)
    if not found and han:
        typo_terms = _han_typo_terms(compact, vocab)
        found = run(lambda e: _han_tier(e, typo_terms))
    if not found:
        found = run(lambda e: _fuzzy_tier(e, compact, py, han))
    return found


def search(q: str, base: QuerySet[Item] | None = None) -> list[Item]:
    """The items of `base` (default: active items) matching `q`, in rank order."""
    if base is None:
        base, ids = Item.objects.filter(is_active=True), None
    else:
        ids = set(base.values_list("pk", flat=True))
    order = rank(q, candidates=ids)
    by_pk = base.in_bulk(order)
    return [by_pk[pk] for pk in order if pk in by_pk]
