"""Pinyin search keys for Chinese names: 张三 -> ``zhangsan`` and ``zs``."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

# Characters read differently when used as a surname.
_SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "区": "ou",
    "查": "zha",
    "乐": "yue",
    "覃": "qin",
    "盖": "ge",
    "缪": "miao",
    "翟": "zhai",
    "黑": "he",
    "尉": "yu",
    "任": "ren",
    "华": "hua",
    "纪": "ji",
    "燕": "yan",
    "宁": "ning",
    "沈": "shen",
}


def _syllables(name: str) -> list[str]:
    name = (name or "").strip()
    if not name:
        return []
    # Characters without a reading (Latin letters, digits) are kept one by one.
    parts = lazy_pinyin(name, style=Style.NORMAL, errors=list)  # type: ignore[arg-type]
    if name[0] in _SURNAME_READINGS and parts:
        parts[0] = _SURNAME_READINGS[name[0]]
    return [p.lower() for p in parts if p.strip() and p.isalnum()]


def pinyin_keys(name: str) -> tuple[str, str]:
    """Return (full pinyin, initials), both lower-case ASCII where possible."""
    syllables = _syllables(name)
    return "".join(syllables), "".join(s[0] for s in syllables)
