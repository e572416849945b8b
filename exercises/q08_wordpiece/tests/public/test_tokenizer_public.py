from grader.testing import assert_close


def test_tokenize_english_and_chinese(submission, remote):
    # the vocabulary file vocab.txt, given by its path
    tok = submission.WordPieceTokenizer(remote.helpers.VOCAB_PATH)
    text = "Hello, Wordplaying Café! 词嵌入"
    got = tok.tokenize(text)
    expected = ["hello", ",", "word", "##play", "##ing", "cafe", "!", "词", "嵌", "入"]
    assert got == expected, f"tokenize({text!r}) should be {expected}, got {got!r}"


def test_unknown_word(submission, helpers):
    VOCAB = helpers.load_vocab_list()
    tok = submission.WordPieceTokenizer(VOCAB)
    got = tok.tokenize("ß hello")
    assert got == ["[UNK]", "hello"], f"tokenize('ß hello') should be ['[UNK]', 'hello'], got {got!r}"


def test_encode_pair_with_padding(submission, helpers):
    VOCAB = helpers.load_vocab_list()
    tok = submission.WordPieceTokenizer(VOCAB)
    ids = {t: i for i, t in enumerate(VOCAB)}
    got = tok.encode("hello world", "word", max_length=8, padding="max_length")
    expected = {
        "input_ids": [ids["[CLS]"], ids["hello"], ids["world"], ids["[SEP]"], ids["word"], ids["[SEP]"], ids["[PAD]"], ids["[PAD]"]],
        "token_type_ids": [0, 0, 0, 0, 1, 1, 0, 0],
        "attention_mask": [1, 1, 1, 1, 1, 1, 0, 0],
    }
    assert_close(got, expected, what="encode('hello world', 'word', max_length=8, padding='max_length')", reveal=True)


def test_decode(submission, helpers):
    VOCAB = helpers.load_vocab_list()
    tok = submission.WordPieceTokenizer(VOCAB)
    ids = {t: i for i, t in enumerate(VOCAB)}
    seq = [ids[t] for t in ["[CLS]", "word", "##play", "##ing", ",", "hello", "[UNK]", "!", "[SEP]"]]
    got = tok.decode(seq)
    assert got == "wordplaying, hello!", f"decode({seq}) should be 'wordplaying, hello!', got {got!r}"
