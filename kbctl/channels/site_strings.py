"""The words of the site's own chrome (not content), per language, and how dates read.

Content comes from the knowledge base; these are the labels around it. A locale gets the strings
of its language (`zh-CN` → `zh`), else English.
"""

from __future__ import annotations

import datetime as dt

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "home": "首页",
        "colon": "：",
        "skip": "跳到主要内容",
        "hero_title": "您好，有什么可以帮您？",
        "hero_sub": "输入问题或关键词搜索，也可以从知识地图浏览全部内容。",
        "search_label": "搜索帮助内容",
        "search_placeholder": "输入问题或关键词",
        "search_button": "搜索",
        "search_title": "搜索",
        "search_hint": "输入关键词即可看到结果，例如业务名称或问题中的词。",
        "search_none": "没有找到与“{q}”相关的内容。请换个说法，或从知识地图浏览。",
        "search_count": "找到 {n} 条与“{q}”相关的结果",
        "search_loading": "正在加载搜索索引…",
        "search_noscript": "搜索需要启用 JavaScript。您也可以从首页的知识地图浏览全部内容。",
        "knowledge_map": "知识地图",
        "top_questions": "常见问题",
        "count": "{n} 篇",
        "other_entries": "其他问题",
        "tags": "热门标签",
        "tag_title": "标签：{tag}",
        "tag_intro": "带有此标签的 {n} 篇内容",
        "subcategories": "子分类",
        "in_category": "本分类下的内容",
        "category_empty": "本分类的内容在下方子分类中。",
        "short_answer": "简要回答",
        "full_answer": "详细解答",
        "related": "相关问题",
        "backlinks": "引用本文的内容",
        "last_reviewed": "最近审核",
        "also_asked": "您可能也会这样问",
        "tags_label": "标签",
        "language": "语言",
        "translation": "本文有{lang}版本",
        "breadcrumb": "当前位置",
        "not_found_title": "页面不存在",
        "not_found_text": "您访问的页面不存在或已被移除。请从首页浏览，或搜索您的问题。",
        "back_home": "返回首页",
        "choose_language": "请选择语言",
        "footer": "本站内容由知识团队定期审核更新。",
        "entry_count_home": "共 {n} 篇内容",
        "feedback_question": "这篇内容有帮助吗？",
        "feedback_yes": "有帮助",
        "feedback_no": "没有帮助",
        "feedback_thanks": "感谢您的反馈！",
    },
    "en": {
        "home": "Home",
        "colon": ": ",
        "skip": "Skip to main content",
        "hero_title": "Hello, how can we help?",
        "hero_sub": "Search for a question or keyword, or browse everything in the knowledge map.",
        "search_label": "Search the help center",
        "search_placeholder": "Type a question or keyword",
        "search_button": "Search",
        "search_title": "Search",
        "search_hint": "Results appear as you type: try a service name or a word from your question.",
        "search_none": "Nothing matches “{q}”. Try other words, or browse the knowledge map.",
        "search_count": "{n} results for “{q}”",
        "search_loading": "Loading the search index…",
        "search_noscript": "Search needs JavaScript. You can still browse everything from the knowledge map on the home page.",
        "knowledge_map": "Knowledge map",
        "top_questions": "Frequently asked questions",
        "count": "{n} articles",
        "other_entries": "More questions",
        "tags": "Popular tags",
        "tag_title": "Tag: {tag}",
        "tag_intro": "{n} articles with this tag",
        "subcategories": "Subcategories",
        "in_category": "Articles in this category",
        "category_empty": "The articles of this category are in its subcategories below.",
        "short_answer": "Short answer",
        "full_answer": "Full answer",
        "related": "Related questions",
        "backlinks": "Articles linking here",
        "last_reviewed": "Last reviewed",
        "also_asked": "Also asked as",
        "tags_label": "Tags",
        "language": "Language",
        "translation": "This article is also available in {lang}",
        "breadcrumb": "Breadcrumb",
        "not_found_title": "Page not found",
        "not_found_text": "The page you asked for does not exist or was removed. Browse from the home page or search for your question.",
        "back_home": "Back to the home page",
        "choose_language": "Choose your language",
        "footer": "The content of this site is reviewed regularly by our knowledge team.",
        "entry_count_home": "{n} articles in total",
        "feedback_question": "Was this helpful?",
        "feedback_yes": "Yes",
        "feedback_no": "No",
        "feedback_thanks": "Thank you for your feedback!",
    },
}

TYPES = {
    "zh": {"faq": "常见问题", "howto": "操作指南", "policy": "服务政策",
           "troubleshooting": "故障排查", "case": "案例", "reference": "参考资料"},
    "en": {"faq": "FAQ", "howto": "How-to", "policy": "Policy",
           "troubleshooting": "Troubleshooting", "case": "Case", "reference": "Reference"},
}

# Labels of restricted blocks and of entries above public, as the agent portal shows them.
BLOCK_LABELS = {
    "zh": {"customer": "客户专属信息 · 仅限已核验客户", "partner": "合作伙伴信息 · 勿向客户透露",
           "internal": "内部信息 · 仅限坐席"},
    "en": {"customer": "Customers only — verified account holders", "partner": "Partners only — not for customers",
           "internal": "Internal — agents only"},
}
VISIBILITY_BADGES = {
    "zh": {"customer": "客户可见", "partner": "合作伙伴可见", "internal": "内部 · 仅限坐席"},
    "en": {"customer": "Customers only", "partner": "Partners only", "internal": "Internal — agents only"},
}
PORTAL_BADGES = {
    "zh": {"customer": "客户专区", "partner": "合作伙伴门户", "internal": "坐席门户"},
    "en": {"customer": "Customer area", "partner": "Partner portal", "internal": "Agent portal"},
}

LANGUAGE_NAMES = {
    "zh-CN": "简体中文", "zh-Hans": "简体中文", "zh-TW": "繁體中文", "zh-HK": "繁體中文（香港）",
    "zh-Hant": "繁體中文", "en": "English", "en-US": "English", "en-GB": "English (UK)",
    "ja": "日本語", "ja-JP": "日本語", "ko": "한국어", "ko-KR": "한국어",
}
# How a language is named inside a sentence of another ("本文有英文版本").
LANGUAGE_IN = {"zh": {"en": "英文", "zh": "中文", "ja": "日文", "ko": "韩文"}}

_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


def lang_of(locale: str) -> str:
    return locale.split("-", 1)[0].lower()


def _table(tables: dict[str, dict[str, str]], locale: str) -> dict[str, str]:
    return tables.get(lang_of(locale)) or tables["en"]


def strings(locale: str) -> dict[str, str]:
    return _table(STRINGS, locale)


def type_label(locale: str, entry_type: str) -> str:
    return _table(TYPES, locale).get(entry_type, entry_type)


def block_labels(locale: str) -> dict[str, str]:
    return _table(BLOCK_LABELS, locale)


def visibility_badge(locale: str, visibility: str) -> str | None:
    return _table(VISIBILITY_BADGES, locale).get(visibility)


def portal_badge(locale: str, audience: str) -> str | None:
    return _table(PORTAL_BADGES, locale).get(audience)


def language_name(locale: str) -> str:
    return LANGUAGE_NAMES.get(locale) or LANGUAGE_NAMES.get(lang_of(locale)) or locale


def language_in(reader_locale: str, other_locale: str) -> str:
    """The other language's name as the reader's language says it inside a sentence."""
    names = LANGUAGE_IN.get(lang_of(reader_locale), {})
    return names.get(lang_of(other_locale)) or language_name(other_locale)


def format_date(locale: str, date: dt.date) -> str:
    if lang_of(locale) in ("zh", "ja"):
        return f"{date.year}年{date.month}月{date.day}日"
    return f"{_EN_MONTHS[date.month - 1]} {date.day}, {date.year}"
