"""Pelican settings for the disclosure site. The snapshot and output paths are given at build time
(public_site/build.py); everything else is fixed here so two builds of one snapshot are identical."""

from pathlib import Path

HERE = Path(__file__).parent

AUTHOR = "养老机构综合监管部门"
SITENAME = "养老机构监管信息公开"
SITEURL = ""
RELATIVE_URLS = True
TIMEZONE = "Asia/Shanghai"
DEFAULT_LANG = "zh_CN"
DEFAULT_DATE = "fs"

PATH = str(HERE / "content")
PAGE_PATHS = ["pages"]
ARTICLE_PATHS = []
STATIC_PATHS = []
THEME = str(HERE / "theme")
PLUGIN_PATHS = [str(HERE / "plugins")]
PLUGINS = ["disclosure_lists"]

# Untrusted text (institution names, addresses) reaches the templates: escape everything.
JINJA_ENVIRONMENT = {"trim_blocks": True, "lstrip_blocks": True, "autoescape": True}

DIRECT_TEMPLATES = []
PAGE_URL = "pages/{slug}.html"
PAGE_SAVE_AS = "pages/{slug}.html"
ARTICLE_SAVE_AS = ""
TAGS_SAVE_AS = TAG_SAVE_AS = ""
CATEGORIES_SAVE_AS = CATEGORY_SAVE_AS = ""
AUTHORS_SAVE_AS = AUTHOR_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
FEED_ALL_ATOM = FEED_ALL_RSS = CATEGORY_FEED_ATOM = TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None

DELETE_OUTPUT_DIRECTORY = True
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
OUTPUT_RETENTION = []

# Pelican's Markdown defaults, without guessing the language of an unmarked code block (Pygments
# tried every lexer on the verification page's one command line: half a second of every build).
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.codehilite": {"css_class": "highlight", "guess_lang": False},
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
    },
    "output_format": "html5",
}
