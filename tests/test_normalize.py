"""Normalisation: the same question typed many ways must meet on one string or code."""
import pytest

from knowledge.normalize import SynonymMap, base_form, phonetic_code, pinyin_runs_to_code, split_pinyin, strip_fillers


def test_full_width_and_traditional_become_simplified_half_width():
    assert base_form("醫療互助怎麼參加？") == "医疗互助怎么参加"
    assert base_form("ＡＢＣ１２３") == "abc123"


def test_punctuation_emoji_and_spaces_are_dropped_but_decimals_kept():
    assert base_form("体检 😀！！ 13.56万。") == "体检13.56万"
    assert base_form("...") == ""


def test_fillers_removed():
    assert strip_fillers("请问医疗互助怎么参加呢") == "医疗互助参加"
    assert strip_fillers("小哥学院是什么") == "小哥学院"


def test_synonyms_rewrite_to_canonical_longest_first():
    syn = SynonymMap([["疗休养", "疗养", "休养"], ["骑手", "外卖小哥", "送外卖的"]])
    assert syn.apply("职工疗养") == "职工疗休养"
    assert syn.apply("疗休养") == "疗休养"          # the canonical word is not re-read as 疗+休养
    assert syn.apply("送外卖的有补贴") == "骑手有补贴"


def test_synonyms_also_catch_homophone_typos_of_a_variant():
    syn = SynonymMap([["驿站", "工会驿站"]])
    assert syn.apply_code(phonetic_code("工会意站")) == phonetic_code("驿站")


@pytest.mark.parametrize("typo,word", [("医疗护助", "医疗互助"), ("疗修养", "疗休养"), ("工会意站", "工会驿站"),
                                       ("体俭", "体检")])
def test_homophone_typos_share_a_phonetic_code(typo, word):
    assert phonetic_code(typo) == phonetic_code(word)


def test_fuzzy_initials_zh_z_and_n_l():
    assert phonetic_code("知") == phonetic_code("资")
    assert phonetic_code("男") == phonetic_code("蓝")


def test_pinyin_input_is_segmented_and_coded():
    assert split_pinyin("yiliaohuzhu") == ["yi", "liao", "hu", "zhu"]
    assert split_pinyin("qwertyuiop") is None
    assert pinyin_runs_to_code("tijian") == phonetic_code("体检")
    assert pinyin_runs_to_code("qwerty") is None


def test_single_characters_read_the_same_without_pypinyins_phrase_dictionary():
    """normalize.py loads pypinyin without phrases (a tenth of a one-shot ask); only single characters are
    converted, and every character the dictionary knows must read the same either way."""
    import os
    import subprocess
    import sys

    script = ("import hashlib\nfrom pypinyin import Style, lazy_pinyin\nfrom pypinyin.pinyin_dict import pinyin_dict\n"
              "print(hashlib.sha1('|'.join(lazy_pinyin(chr(c), style=Style.NORMAL)[0] "
              "for c in sorted(pinyin_dict)).encode()).hexdigest())")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYPINYIN_")}
    with_phrases = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    without = subprocess.run([sys.executable, "-c", script], env={**env, "PYPINYIN_NO_PHRASES": "1"},
                             capture_output=True, text=True, check=True)
    assert with_phrases.stdout == without.stdout and len(without.stdout.strip()) == 40
