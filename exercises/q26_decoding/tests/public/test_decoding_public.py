import torch


def _bigram(remote):
    # next-token logits depend on the last token only: table[last]
    table = torch.tensor([[0.0, 1.0, 2.0, 0.0],    # after 0 (bos): 2 is best
                          [0.0, 0.0, 0.0, 0.0],    # after 1 (eos)
                          [0.0, 0.0, 0.0, 3.0],    # after 2: 3 is best
                          [0.0, 2.0, 0.0, 1.0]])   # after 3: eos is best
    return remote.helpers.ToyLM(4, 0, 1.0, table=table)


def test_greedy(submission, remote):
    lm = _bigram(remote)
    got = submission.greedy_decode(lm, 0, 1, 10)
    assert got == [0, 2, 3, 1], f"greedy_decode should give [0, 2, 3, 1], got {got}"
    got = submission.greedy_decode(lm, 0, 1, 2)
    assert got == [0, 2, 3], f"greedy_decode with max_len=2 should give [0, 2, 3], got {got}"


def test_beam_search(submission, remote):
    lm = _bigram(remote)
    got = submission.beam_search(lm, 0, 1, 2, 3, length_penalty=1.0)
    seqs = [s for s, _ in got]
    assert seqs[0] == [0, 2, 3, 1], f"the best hypothesis should be [0, 2, 3, 1], got {got}"
    assert len(got) == 2 and type(got[0][1]) is float, f"beam_search should return 2 (sequence, float) pairs, got {got}"


def test_filter(submission):
    ninf = float("-inf")
    got = submission.top_k_top_p_filter(torch.tensor([1.0, 3.0, 2.0, 3.0]), top_k=2)
    assert got.tolist() == [ninf, 3.0, ninf, 3.0], f"top_k=2 on [1, 3, 2, 3] should keep both 3s, got {got.tolist()}"
    got = submission.top_k_top_p_filter(torch.tensor([0.0, 2.0, 1.0]), top_p=0.7)
    assert got.tolist() == [ninf, 2.0, 1.0], f"top_p=0.7 on [0, 2, 1] (probs .09, .67, .24) should keep 2 tokens, got {got.tolist()}"


def test_sample(submission, remote):
    lm = _bigram(remote)
    got = submission.sample(lm, 0, 1, 10, top_k=1, generator=torch.Generator().manual_seed(0))
    assert got == [0, 2, 3, 1], f"sampling with top_k=1 is greedy: expected [0, 2, 3, 1], got {got}"
