import random
from pathlib import Path

import pytest

from grader.testing import assert_close

HERE = Path(__file__).parent
# The seed question bank itself (Chinese with English terms, code and punctuation).
SEED_TEXT = (HERE / "seed_text.txt").read_text(encoding="utf-8")

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
POOL = (list(LETTERS) * 2 + list("     \t\n") + list(".,!?'\"-()$^`~@#%&*+=/\\:;<>{}|_") + list("éÉèàçñüöÜÀßøÅ")
        + ["\u0301", "\u0308", "\x00", "\ufffd", "\u200b", "\x0b", "\u3000", "\u00a0", "\x7f", "\r"]
        + list("词嵌入模型的预训练语言中文，。？！：；（）、《》…—·龘鑫㐀"))
SENTENCES = [
    "Hello, World! I can't afford an unaffordable café in Zürich.",
    "Naïve RÉSUMÉ über-embeddings: pre-trained BERT/GPT-2 tokenizers ($100).",
    "请解释自然语言处理（NLP）中的词嵌入（Word Embedding）。",
    "预训练语言模型（Pre-trained Language Model）是一种在大量文本数据上预先训练好的语言模型。",
    "model.fc = nn.Linear(num_ftrs, 10)  # 10个类别",
    "   leading and trailing spaces\t\n",
    "",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
]


def rand_text(n):
    return "".join(random.choice(POOL) for _ in range(n))


@pytest.fixture
def vocab_list(helpers):
    return helpers.load_vocab_list()


def peer(vocab_list, do_lower_case=True, max_chars=100, unk_token="[UNK]"):
    from transformers import BertTokenizer

    tok = BertTokenizer(vocab={t: i for i, t in enumerate(vocab_list)}, do_lower_case=do_lower_case, unk_token=unk_token)
    tok._tokenizer.model.max_input_chars_per_word = max_chars
    return tok


@pytest.mark.points(3)
def test_tokenize_seed_text(submission, vocab_list):
    """tokenize agrees with BertTokenizer on the seed's own text (Chinese, English, code)"""
    ref = peer(vocab_list)
    tok = submission.WordPieceTokenizer(vocab_list)
    assert_close(tok.tokenize(SEED_TEXT), ref.tokenize(SEED_TEXT), what="tokenize of the whole seed text")
    lines = SEED_TEXT.splitlines()
    for i in range(0, len(lines), 97):
        chunk = "\n".join(lines[i:i + 7])
        assert_close(tok.tokenize(chunk), ref.tokenize(chunk), what="tokenize of a passage of the seed text")
    for s in SENTENCES:
        assert_close(tok.tokenize(s), ref.tokenize(s), what="tokenize of a mixed-script sentence")


@pytest.mark.points(3)
def test_tokenize_random_text(submission, vocab_list):
    """tokenize agrees with BertTokenizer on random text (accents, punctuation, CJK, control characters)"""
    ref = peer(vocab_list)
    tok = submission.WordPieceTokenizer(vocab_list)
    for _ in range(60):
        s = rand_text(random.randint(0, 40))
        assert_close(tok.tokenize(s), ref.tokenize(s), what="tokenize of random mixed text")


@pytest.mark.points(2)
def test_tokenize_cased(submission, vocab_list):
    """do_lower_case=False: no lower-casing and no accent stripping"""
    ref = peer(vocab_list, do_lower_case=False)
    tok = submission.WordPieceTokenizer(vocab_list, do_lower_case=False)
    for s in SENTENCES:
        assert_close(tok.tokenize(s), ref.tokenize(s), what="tokenize (do_lower_case=False) of a sentence")
    for _ in range(40):
        s = rand_text(random.randint(0, 40))
        assert_close(tok.tokenize(s), ref.tokenize(s), what="tokenize (do_lower_case=False) of random text")


@pytest.mark.points(2)
def test_unknown_and_long_words(submission, vocab_list):
    """unknown words and max_input_chars_per_word (the boundary included); a custom unk_token"""
    for max_chars in (3, 5, 6, 8):
        ref = peer(vocab_list, max_chars=max_chars)
        tok = submission.WordPieceTokenizer(vocab_list, max_input_chars_per_word=max_chars)
        words = ["".join(random.choice(LETTERS + "éßø") for _ in range(random.randint(1, 10))) for _ in range(60)]
        words += ["hello", "hellos", "token", "tokens", "words", "word", "café", "cafés", "ßß", "abcdefgh"]
        text = " ".join(words)
        assert_close(tok.tokenize(text), ref.tokenize(text),
                     what=f"tokenize with max_input_chars_per_word={max_chars}")
    custom = ["<unk>" if t == "[UNK]" else t for t in vocab_list]
    ref = peer(custom, unk_token="<unk>")
    tok = submission.WordPieceTokenizer(custom, unk_token="<unk>")
    for s in SENTENCES + ["ßø øß ß", "x" * 150]:
        assert_close(tok.tokenize(s), ref.tokenize(s), what="tokenize with unk_token='<unk>'")


@pytest.mark.points(1)
def test_vocab_forms(submission, remote, vocab_list):
    """the vocabulary given as a file path, a dict or a list"""
    ref = peer(vocab_list)
    s = SENTENCES[0] + SENTENCES[2]
    expected = ref(s)["input_ids"]
    by_path = submission.WordPieceTokenizer(remote.helpers.VOCAB_PATH)
    assert_close(by_path.encode(s)["input_ids"], expected, what="encode with the vocabulary given as a path")
    by_dict = submission.WordPieceTokenizer({t: i for i, t in enumerate(vocab_list)})
    assert_close(by_dict.encode(s)["input_ids"], expected, what="encode with the vocabulary given as a dict")
    by_list = submission.WordPieceTokenizer(list(vocab_list))
    assert_close(by_list.encode(s)["input_ids"], expected, what="encode with the vocabulary given as a list")


def check_encode(tok, ref, a, b, what, **kw):
    kw.setdefault("truncation", False)   # transformers would truncate by default when max_length is given
    expected = dict(ref(a, b, **kw))
    got = tok.encode(a, b, **kw)
    assert_close(got, expected, what=what)


@pytest.mark.points(2)
def test_encode_single(submission, vocab_list):
    """encode of one text: [CLS]/[SEP], truncation, padding to max_length"""
    ref = peer(vocab_list)
    tok = submission.WordPieceTokenizer(vocab_list)
    for s in SENTENCES:
        check_encode(tok, ref, s, None, "encode of a single text")
    for _ in range(40):
        s = rand_text(random.randint(0, 40))
        kw = dict(max_length=random.choice([None, random.randint(2, 25)]), padding=random.choice([False, "max_length"]),
                  truncation=random.choice([False, True]))
        check_encode(tok, ref, s, None, "encode of a single text with max_length/padding/truncation", **kw)


@pytest.mark.points(3)
def test_encode_pair_truncation(submission, vocab_list):
    """encode of a text pair: token types and the longest_first truncation rule"""
    ref = peer(vocab_list)
    tok = submission.WordPieceTokenizer(vocab_list)
    for a in SENTENCES[:4]:
        for b in SENTENCES[2:6]:
            check_encode(tok, ref, a, b, "encode of a text pair")
    for _ in range(60):
        la, lb = random.randint(0, 12), random.randint(1, 12)
        a = " ".join(random.choice(["hello", "world", "a", "b", "词", "模", ",", "token"]) for _ in range(la))
        b = " ".join(random.choice(["hello", "world", "a", "b", "词", "模", ",", "token"]) for _ in range(lb))
        kw = dict(max_length=random.randint(3, 20), truncation=True, padding=random.choice([False, "max_length"]))
        check_encode(tok, ref, a, b, "encode of a text pair with truncation", **kw)


@pytest.mark.points(1)
def test_encode_padding_and_empty_pair(submission, vocab_list):
    """padding needs max_length; an empty text_pair counts as no pair; no truncation without the flag"""
    ref = peer(vocab_list)
    tok = submission.WordPieceTokenizer(vocab_list)
    cases = [("hello world", "", {}), ("hello world", "", {"max_length": 8, "padding": "max_length"}),
             ("hello", None, {"padding": "max_length"}), ("hello world a b c d", None, {"max_length": 4}),
             ("hello world a b c d", "a b", {"max_length": 5, "padding": "max_length"}),
             ("", "", {}), ("", "a b", {"max_length": 9, "padding": "max_length"}), ("hello", "   ", {})]
    for a, b, kw in cases:
        check_encode(tok, ref, a, b, "encode (padding, empty pair or no truncation)", **kw)


@pytest.mark.points(2)
def test_decode(submission, vocab_list):
    """decode: '##' pieces joined, special tokens (and [UNK]) skipped, punctuation clean-up"""
    ref = peer(vocab_list)
    tok = submission.WordPieceTokenizer(vocab_list)
    for _ in range(30):
        ids = [random.randrange(len(vocab_list)) for _ in range(random.randint(0, 15))]
        ids += [random.randrange(5) for _ in range(random.randint(0, 3))]
        random.shuffle(ids)
        for skip in (True, False):
            assert_close(tok.decode(ids, skip_special_tokens=skip), ref.decode(ids, skip_special_tokens=skip),
                         what=f"decode(skip_special_tokens={skip}) of random ids")
    for s in SENTENCES:
        ids = ref(s)["input_ids"]
        assert_close(tok.decode(ids), ref.decode(ids, skip_special_tokens=True), what="decode of an encoded sentence")
