import itertools
import math

import pytest
import torch

from grader.testing import assert_close


def _lm(remote, helpers, vocab_size, seed, scale=2.0, table=None):
    """The same ToyLM in the worker (handle) and in the judge."""
    kwargs = {"table": table} if table is not None else {}
    return (remote.helpers.ToyLM(vocab_size, seed, scale, **kwargs),
            helpers.ToyLM(vocab_size, seed, scale, **kwargs))


def _check_beams(got, expected, what):
    assert type(got) is list, f"{what}: beam_search should return a list, got {type(got).__name__}"
    assert len(got) == len(expected), f"{what}: returned {len(got)} hypotheses, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        assert type(g) is tuple and len(g) == 2, f"{what}: item {i} should be a (sequence, score) tuple"
        assert type(g[0]) is list and all(type(t) is int for t in g[0]), f"{what}: item {i}'s sequence should be a list of ints"
        assert type(g[1]) is float, f"{what}: item {i}'s score should be a Python float"
        assert g[0] == e[0], f"{what}: hypothesis {i} differs from the expected one"
        assert math.isclose(g[1], e[1], rel_tol=1e-4, abs_tol=1e-5), f"{what}: the score of hypothesis {i} is wrong"


@pytest.mark.points(2)
def test_greedy(submission, reference, remote, helpers):
    """greedy_decode: argmax at each step, stops after eos or max_len generated tokens"""
    for case in range(8):
        V = 5 + case % 4
        lm, local = _lm(remote, helpers, V, int(torch.randint(0, 10**6, ())), 3.0)
        bos, eos, max_len = 0, 1 + case % (V - 1), [1, 4, 8, 12][case % 4]
        got = submission.greedy_decode(lm, bos, eos, max_len)
        assert_close(got, reference.greedy_decode(local, bos, eos, max_len), what=f"greedy_decode (max_len={max_len})")


def _brute_force(lm, bos, eos, max_len, length_penalty, k):
    """Every finished sequence (ends with eos, or reaches max_len), ranked as the README states."""
    V = lm.vocab_size
    out = []

    def walk(seq, lp):
        if len(seq) - 1 == max_len or (len(seq) > 1 and seq[-1] == eos):
            out.append((seq, lp / (len(seq) - 1) ** length_penalty))
            return
        logp = torch.log_softmax(lm.next_logits(seq).double(), -1)
        for t in range(V):
            walk(seq + [t], lp + float(logp[t]))

    walk([bos], 0.0)
    out.sort(key=lambda x: -x[1])
    return out[:k]


@pytest.mark.points(2)
def test_beam_search_exhaustive(submission, remote, helpers):
    """with a beam as wide as all sequences, beam search returns the brute-force ranking"""
    for case, (V, max_len, lp) in enumerate([(3, 3, 1.0), (4, 3, 0.0), (3, 4, 2.0), (4, 2, 0.5)]):
        lm, local = _lm(remote, helpers, V, int(torch.randint(0, 10**6, ())), 1.5)
        beam = V ** max_len
        got = submission.beam_search(lm, 0, 1, beam, max_len, length_penalty=lp)
        _check_beams(got, _brute_force(local, 0, 1, max_len, lp, beam), f"exhaustive beam search (length_penalty={lp})")


@pytest.mark.points(2)
def test_beam_search_pruned(submission, reference, remote, helpers):
    """narrow beams agree with the reference (pruning over all extensions, finished hypotheses leave the beam)"""
    for case in range(8):
        V = 5 + case % 3
        lm, local = _lm(remote, helpers, V, int(torch.randint(0, 10**6, ())), 2.0)
        beam, max_len, lp = 2 + case % 3, 3 + case % 4, [1.0, 0.0, 0.6, 2.0][case % 4]
        got = submission.beam_search(lm, 0, 1, beam, max_len, length_penalty=lp)
        _check_beams(got, reference.beam_search(local, 0, 1, beam, max_len, lp),
                     f"beam search (beam_size={beam}, length_penalty={lp})")


@pytest.mark.points(1)
def test_beam_of_one_is_greedy(submission, remote, helpers, reference):
    """beam_size=1 finds the greedy sequence"""
    for case in range(5):
        lm, local = _lm(remote, helpers, 6, int(torch.randint(0, 10**6, ())), 3.0)
        got = submission.beam_search(lm, 0, 2, 1, 6)
        assert type(got) is list and len(got) == 1, "beam_search with beam_size=1 should return one hypothesis"
        assert got[0][0] == reference.greedy_decode(local, 0, 2, 6), "beam_search with beam_size=1 is not the greedy sequence"


@pytest.mark.points(2)
def test_filter_random(submission, reference):
    """top_k_top_p_filter agrees with the reference (transformers' top-k then top-p warpers) on random logits"""
    for case in range(30):
        V = int(torch.randint(2, 30, ()))
        logits = torch.randn(3, V) * float(torch.rand(())) * 5
        if case % 3 == 0:
            logits = (logits * 2).round() / 2  # ties
        if case % 5 == 4:
            logits = logits[0]  # 1-D
        top_k = [None, 1, 3, 5, V + 2][case % 5]
        top_p = [None, 0.1, 0.5, 0.9, 0.99, 1.0][case % 6]
        got = submission.top_k_top_p_filter(logits, top_k=top_k, top_p=top_p)
        assert_close(got, reference.top_k_top_p_filter(logits, top_k, top_p),
                     what=f"top_k_top_p_filter(top_k={top_k}, top_p={top_p})")


@pytest.mark.points(2)
def test_filter_edge_cases(submission):
    """ties at the k-th logit kept, the token crossing top_p kept, ties in top-p by lower index, at least one token"""
    ninf = float("-inf")
    cases = [
        (torch.tensor([1.0, 3.0, 2.0, 3.0, 2.0]), 3, None, torch.tensor([ninf, 3.0, 2.0, 3.0, 2.0]), "ties at the k-th logit"),
        (torch.tensor([0.0, 2.0, 1.0]), None, 0.5, torch.tensor([ninf, 2.0, ninf]), "a first token above top_p"),
        (torch.tensor([0.0, 0.0, 0.0, 0.0]), None, 0.5, torch.tensor([0.0, 0.0, ninf, ninf]), "exactly top_p of the mass"),
        (torch.tensor([0.0, 1.0, 1.0, 0.0]), None, 0.3, torch.tensor([ninf, 1.0, ninf, ninf]), "one token reaching top_p"),
        (torch.tensor([0.0, 1.0, 1.0, 0.0]), None, 0.6, torch.tensor([ninf, 1.0, 1.0, ninf]), "the token that crosses top_p"),
        (torch.tensor([2.0, 2.0, 2.0]), None, 0.1, torch.tensor([2.0, ninf, ninf]), "ties in top-p, lower index first"),
        (torch.tensor([5.0, 1.0, 0.0]), None, 1e-9, torch.tensor([5.0, ninf, ninf]), "a tiny top_p"),
        (torch.tensor([5.0, 1.0, 0.0]), 2, 0.9999, torch.tensor([5.0, 1.0, ninf]), "top-k before top-p"),
        (torch.tensor([0.5, 1.0]), None, None, torch.tensor([0.5, 1.0]), "no filtering"),
        (torch.tensor([0.5, 1.0]), 10, 1.0, torch.tensor([0.5, 1.0]), "top_k above the vocabulary size and top_p=1"),
    ]
    for logits, k, p, expected, what in cases:
        got = submission.top_k_top_p_filter(logits, top_k=k, top_p=p)
        assert_close(got, expected, what=f"top_k_top_p_filter: {what}")


def _filtered_probs(local, reference, temperature, top_k, top_p):
    logits = local.next_logits([0]) / temperature
    return torch.softmax(reference.top_k_top_p_filter(logits, top_k, top_p), -1)


@pytest.mark.points(2)
@pytest.mark.call_timeout(30)
def test_sample_frequencies(submission, reference, remote, helpers, seed):
    """sampled first tokens follow softmax(filtered logits / temperature); filtered tokens never appear"""
    n = 1500
    table = torch.tensor([2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0, -3.0])
    for temperature, top_k, top_p in [(1.0, None, None), (0.5, None, 0.8), (2.0, 5, None), (1.5, 6, 0.7)]:
        lm, local = _lm(remote, helpers, 8, 0, 1.0, table=table)
        counts = remote.helpers.first_token_counts(submission.sample, lm, 0, 7, n, seed, temperature=temperature,
                                                   top_k=top_k, top_p=top_p)
        p = _filtered_probs(local, reference, temperature, top_k, top_p)
        assert type(counts) is torch.Tensor, "sample did not return sequences"
        freq = counts.double() / n
        assert bool((counts[p == 0] == 0).all()), \
            f"sample drew a filtered-out token (temperature={temperature}, top_k={top_k}, top_p={top_p})"
        tol = 5 * torch.sqrt(p.double() * (1 - p.double()) / n) + 0.01
        assert bool(((freq - p.double()).abs() <= tol).all()), \
            f"sample frequencies do not match the filtered distribution (temperature={temperature}, top_k={top_k}, top_p={top_p})"


@pytest.mark.points(1)
def test_sample_eos_and_determinism(submission, remote, helpers):
    """sample starts with bos, stops after eos or max_len tokens, and is reproducible from the generator"""
    for case in range(6):
        lm, _ = _lm(remote, helpers, 6, int(torch.randint(0, 10**6, ())), 2.0)
        g = torch.Generator().manual_seed(int(torch.randint(0, 10**6, ())))
        a = submission.sample(lm, 0, 1, 10, temperature=1.2, generator=g)
        b = submission.sample(lm, 0, 1, 10, temperature=1.2, generator=g)
        assert type(a) is list and all(type(t) is int for t in a), "sample should return a list of ints"
        assert a == b, "the same generator state gives different samples"
        assert a[0] == 0, "the sequence should start with bos"
        assert 2 <= len(a) <= 11, "sample should generate between 1 and max_len tokens"
        assert 1 not in a[1:-1], "sample continued after eos"
        assert a[-1] == 1 or len(a) == 11, "sample stopped before max_len without producing eos"
