"""A name's pinyin keys (events/name_keys.py): the initials derived from the syllables equal
pypinyin's own first-letter style, character by character and in mixed names."""

import random

from pypinyin import Style, lazy_pinyin

from events.name_keys import _readings, index_words, pinyin_keys

HAN = [chr(c) for c in range(0x4E00, 0x9FA6)]  # CJK Unified Ideographs, the basic block
OTHER = list("ABCabcXYZ0123456789（）() -·、，。〇ⅡＡ１")


def first_letters(name: str) -> tuple[str, ...]:
    return tuple(s.lower() for s in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default"))


def test_initials_equal_the_first_letter_style_for_every_character_of_the_basic_block():
    assert [c for c in HAN if _readings(c)[1] != first_letters(c)] == []


def test_initials_equal_the_first_letter_style_in_names_mixing_characters_letters_and_digits():
    rng = random.Random(2026)
    names = ["".join(rng.choice(HAN if rng.random() < 0.75 else OTHER) for _ in range(rng.randint(1, 14))) for _ in range(5000)]
    names += ["颐和颐养中心", "绿园养老院", "长乐护理院", "重庆路A座康养中心", "第2分院（西区）", "ABC养老", "养老abc", "吕梁市"]
    assert [n for n in names if _readings(n)[1] != first_letters(n)] == []
    assert [n for n in names if _readings(n)[0] != tuple(s.lower() for s in lazy_pinyin(n, errors="default"))] == []


def test_what_people_type_finds_the_name():
    assert pinyin_keys("颐和颐养中心") == ("yiheyiyangzhongxin", "yhyyzx")
    assert pinyin_keys("绿园A座") == ("lvyuanazuo", "lyaz")  # the letter is a run of its own, kept
    words = index_words("颐和颐养中心").split()
    assert {"颐和", "yiheyiyangzhongxin", "yhyyzx", "yangzhongxin", "yzx"} <= set(words)
