"""Public tests for q30_bert_inference (run them with `grader check`)."""


def test_padding_cost_small(submission, remote):
    tokenizer = remote.helpers.make_tokenizer()
    # token lengths with [CLS]/[SEP]: 3, 8, 4, 9
    texts = ["good", "the movie was very very good", "bad film", "the film was really not that fun"]
    got = submission.padding_cost(tokenizer, texts, 2, 64, False)
    assert got == 10, f"unsorted batches [3, 8], [4, 9] need (8-3) + (9-4) = 10 pads, got {got}"
    got = submission.padding_cost(tokenizer, texts, 2, 64, True)
    assert got == 2, f"sorted batches [3, 4], [8, 9] need (4-3) + (9-8) = 2 pads, got {got}"
    got = submission.padding_cost(tokenizer, texts, 2, 5, False)
    assert got == 3, f"with max_length=5 the lengths are 3, 5, 4, 5: (5-3) + (5-4) = 3 pads, got {got}"


def test_predict_shapes_order_and_mode(submission, remote):
    tokenizer = remote.helpers.make_tokenizer()
    model = remote.helpers.make_model(3, 0)          # a fresh model, in train mode
    texts = ["the movie was very very good", "bad", "fun film"]
    got = submission.predict(model, tokenizer, texts, batch_size=2)
    assert isinstance(got, list) and len(got) == 3, f"expected 3 results, got {got!r}"
    for r in got:
        assert set(r) == {"label", "probs"} and len(r["probs"]) == 3, f"bad result {r!r}"
        assert abs(sum(r["probs"]) - 1) < 1e-5 and r["label"] == max(range(3), key=lambda k: r["probs"][k]), \
            f"probs should sum to 1 and label be their argmax, got {r!r}"
    single = submission.predict(model, tokenizer, ["bad"], batch_size=1)[0]
    assert all(abs(a - b) < 1e-5 for a, b in zip(single["probs"], got[1]["probs"])), \
        f"'bad' alone gives {single['probs']} but {got[1]['probs']} in a batch: order or padding is wrong"
    assert model.training is True, "predict should restore the model's train mode"
    assert submission.predict(model, tokenizer, []) == [], "predict([]) should be []"
