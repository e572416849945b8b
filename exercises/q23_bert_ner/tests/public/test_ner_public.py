"""Public tests for q23_bert_ner (run them with `grader check`)."""

import torch

ID2LABEL = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}


def test_align_first_subtoken(submission):
    # [CLS] Jo ##hn lives in Par ##is [SEP]
    word_ids = [None, 0, 0, 1, 2, 3, 3, None]
    word_labels = [1, 0, 0, 3]
    got = submission.align_labels_with_tokens(word_ids, word_labels)
    expected = [-100, 1, -100, 0, 0, 3, -100, -100]
    assert got == expected, f"align_labels_with_tokens({word_ids}, {word_labels}) should be {expected}, got {got}"
    got = submission.align_labels_with_tokens(word_ids, word_labels, label_all_subtokens=True, ignore_index=-1)
    expected = [-1, 1, 1, 0, 0, 3, 3, -1]
    assert got == expected, f"with label_all_subtokens=True, ignore_index=-1 expected {expected}, got {got}"


def test_decode_entities(submission):
    word_ids = [None, 0, 0, 1, 2, 3, 3, None]
    preds = [0, 1, 2, 2, 0, 3, 0, 0]       # words: B-PER, I-PER, O, B-LOC
    got = submission.decode_entities(preds, word_ids, ID2LABEL)
    expected = [("PER", 0, 2), ("LOC", 3, 4)]
    assert got == expected, f"decode_entities({preds}, {word_ids}) should be {expected}, got {got}"


def test_token_classifier_shapes_and_loss(submission):
    config = dict(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                  intermediate_size=32, max_position_embeddings=32)
    model = submission.BertTokenClassifier(config, 5)
    model.eval()
    ids = torch.tensor([[2, 7, 9, 4], [2, 5, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    out = model(ids, attention_mask=mask)
    assert set(out) == {"logits"} and tuple(out["logits"].shape) == (2, 4, 5), \
        f"logits should have shape (2, 4, 5), got {out!r}"
    labels = torch.tensor([[-100, 1, 2, -100], [-100, 3, -100, -100]])
    out = model(ids, attention_mask=mask, labels=labels)
    logits = out["logits"]
    expected = float(torch.nn.functional.cross_entropy(logits.reshape(-1, 5), labels.reshape(-1)))
    got = float(out["loss"])
    assert abs(got - expected) < 1e-5, f"loss over the 3 labelled positions should be {expected:.6f}, got {got:.6f}"
