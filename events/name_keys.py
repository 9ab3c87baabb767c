"""How a name is matched by what people type: the API's search and the public site's index both use
these keys, so a name found one way is found the other.

- full pinyin and initials (颐和颐养中心 → yiheyiyangzhongxin, yhyyzx), lowercase;
- for the site's word-based index (Pagefind matches words by their beginnings), every run of two
  characters, and the pinyin and initials from every syllable on (颐和 … yiheyiyangzhongxin,
  yhyyzx …), so 颐和, yihe, yiyang or yh find a home whatever part of its name was typed. These are
  indexed where the reader never sees them.
"""

from __future__ import annotations

import functools

from pypinyin import lazy_pinyin


@functools.lru_cache(maxsize=65536)
def _readings(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The name's syllables and their initials (a run of other characters kept as it is), lowercase;
    remembered, as a site build asks for each name more than once. The initials come from the
    syllables (pypinyin's first-letter style is the first letter of each character's reading, and
    keeps other runs as they are: tests/unit/test_name_keys.py holds the two equal), which halves
    the work — the name is segmented and looked up once."""
    syllables = lazy_pinyin(name, errors="default")
    initials, at = [], 0
    for syllable in syllables:
        if name.startswith(syllable, at):  # a run of other characters, kept as it is
            initials.append(syllable)
            at += len(syllable)
        else:  # one character's reading
            initials.append(syllable[0])
            at += 1
    return tuple(s.lower() for s in syllables), tuple(s.lower() for s in initials)


def pinyin_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name, lowercase, for matching what people type (yihe, yh)."""
    syllables, initials = _readings(name)
    return "".join(syllables), "".join(initials)


def index_words(name: str) -> str:
    """Space-separated words to index beside a name: its two-character runs, then its pinyin and its
    initials from each syllable to the end."""
    chars = [c for c in name if not c.isspace()]
    syllables = [s for s in _readings("".join(chars))[0] if s.isascii() and s.isalnum()]
    words = ["".join(chars[i : i + 2]) for i in range(len(chars) - 1)]
    words += ["".join(syllables[i:]) for i in range(len(syllables) - 1)]
    words += ["".join(s[0] for s in syllables[i:]) for i in range(len(syllables) - 1)]
    return " ".join(dict.fromkeys(w for w in words if len(w) > 1))
