import itertools
import math
import random

import pytest
import torch

from grader.testing import assert_close, assert_float


def path_score(em, tr, st, en, path):
    """Score of one path; arguments are nested Python lists (or tensors)."""
    em, tr, st, en = (x.double().tolist() if isinstance(x, torch.Tensor) else x for x in (em, tr, st, en))
    s = st[path[0]] + en[path[-1]]
    for t, y in enumerate(path):
        s += em[t][y]
        if t:
            s += tr[path[t - 1]][y]
    return s


def brute_force(em, tr, st, en):
    """All paths in lexicographic order: the first strict maximum is the smallest best path."""
    T, K = em.shape
    em, tr, st, en = (x.double().tolist() for x in (em, tr, st, en))
    best, best_path, scores = -math.inf, None, []
    for path in itertools.product(range(K), repeat=T):
        s = path_score(em, tr, st, en, path)
        scores.append(s)
        if s > best:
            best, best_path = s, list(path)
    m = max(scores)
    logz = m + math.log(sum(math.exp(s - m) for s in scores))
    return best_path, best, logz


def random_crf(T, K, scale=1.0, integer=False):
    if integer:
        f = lambda *shape: torch.randint(0, 3, shape).float()
    else:
        f = lambda *shape: torch.randn(*shape) * scale
    return f(T, K), f(K, K), f(K), f(K)


@pytest.mark.points(3)
def test_viterbi_brute_force(submission):
    """viterbi_decode: best path and its score equal brute-force enumeration"""
    for _ in range(25):
        T, K = random.randint(1, 6), random.randint(1, 4)
        em, tr, st, en = random_crf(T, K, scale=random.choice([0.5, 2.0]))
        path, score, _ = brute_force(em, tr, st, en)
        got = submission.viterbi_decode(em, tr, st, en)
        assert type(got) is tuple and len(got) == 2, "viterbi_decode should return a (path, score) tuple"
        assert_close(got[0], path, what="the Viterbi path")
        assert_close(got[1], score, rtol=1e-4, atol=1e-4, what="the Viterbi score")


@pytest.mark.points(2)
def test_viterbi_ties(submission):
    """viterbi_decode: among equally good paths, the lexicographically smallest"""
    for _ in range(30):
        T, K = random.randint(2, 5), random.randint(2, 3)
        em, tr, st, en = random_crf(T, K, integer=True)
        path, score, _ = brute_force(em, tr, st, en)
        got = submission.viterbi_decode(em, tr, st, en)
        assert_close(got[0], path, what="the Viterbi path when several paths tie")
        assert_close(got[1], score, rtol=1e-5, atol=1e-5, what="the Viterbi score when several paths tie")


@pytest.mark.points(2)
def test_viterbi_batch_mask(submission):
    """viterbi_decode_batch: each sequence decoded over its unmasked prefix"""
    for case in range(8):
        B, T, K = random.randint(1, 5), random.randint(1, 5), random.randint(2, 3)
        em, tr, st, en = random_crf(T, K, integer=(case % 2 == 0))
        em = em.unsqueeze(0).repeat(B, 1, 1) + (torch.randn(B, T, K) if case % 2 else 0.0)
        lengths = [T] + [random.randint(1, T) for _ in range(B - 1)]
        random.shuffle(lengths)
        mask = torch.tensor([[1] * n + [0] * (T - n) for n in lengths], dtype=torch.bool)
        if case % 4 == 1:
            mask = mask.long()
        # Padded positions hold large scores: they must not influence the result.
        em = torch.where(mask.bool().unsqueeze(2), em, torch.full_like(em, 50.0))
        expected = [brute_force(em[b, :n], tr, st, en)[0] for b, n in enumerate(lengths)]
        assert_close(submission.viterbi_decode_batch(em, mask, tr, st, en), expected,
                     what="viterbi_decode_batch with padding")
    # A batch whose first sequence has tied best paths.
    em = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [1.0, 1.0]], [[0.0, 2.0], [5.0, 5.0], [5.0, 5.0]]])
    tr, st, en = torch.tensor([[0.0, 1.0], [1.0, 0.0]]), torch.zeros(2), torch.zeros(2)
    mask = torch.tensor([[True, True, True], [True, False, False]])
    expected = [brute_force(em[0], tr, st, en)[0], brute_force(em[1, :1], tr, st, en)[0]]
    assert_close(submission.viterbi_decode_batch(em, mask, tr, st, en), expected,
                 what="viterbi_decode_batch with tied paths")


@pytest.mark.points(2)
def test_log_partition(submission):
    """crf_log_partition: [T, K] and [B, T, K] inputs, large scores without overflow"""
    for case in range(12):
        T, K = random.randint(1, 5), random.randint(1, 4)
        scale = [1.0, 3.0, 300.0][case % 3]
        em, tr, st, en = random_crf(T, K, scale=scale)
        _, _, logz = brute_force(em, tr, st, en)
        assert_close(submission.crf_log_partition(em, tr, st, en), torch.tensor(logz, dtype=torch.float32),
                     rtol=1e-4, atol=1e-3, what="crf_log_partition of one sequence (0-dim result)")
        B = random.randint(1, 4)
        ems = torch.randn(B, T, K) * scale
        expected = torch.tensor([brute_force(ems[b], tr, st, en)[2] for b in range(B)], dtype=torch.float32)
        assert_close(submission.crf_log_partition(ems, tr, st, en), expected, rtol=1e-4, atol=1e-3,
                     what="crf_log_partition of a batch")


@pytest.mark.points(2)
def test_nll_and_probabilities(submission):
    """crf_nll: equals log Z - score(tags); probabilities of all paths sum to 1"""
    for case in range(10):
        T, K = random.randint(1, 4), random.randint(1, 3)
        em, tr, st, en = random_crf(T, K, scale=[1.0, 2.0][case % 2])
        _, _, logz = brute_force(em, tr, st, en)
        tags = torch.randint(0, K, (T,))
        expected = logz - path_score(em, tr, st, en, tags.tolist())
        assert_close(submission.crf_nll(em, tags, tr, st, en), torch.tensor(expected, dtype=torch.float32),
                     rtol=1e-4, atol=1e-4, what="crf_nll of one sequence (0-dim result)")
        paths = torch.tensor(list(itertools.product(range(K), repeat=T)))
        nll = submission.crf_nll(em.unsqueeze(0).repeat(len(paths), 1, 1), paths, tr, st, en)
        assert type(nll) is torch.Tensor and nll.shape == (len(paths),), "crf_nll of a batch should have shape [B]"
        total = float(torch.logsumexp(-nll.double(), dim=0).exp())
        assert abs(total - 1.0) < 1e-4, "the probabilities exp(-crf_nll) of all tag paths do not sum to 1"


TYPES = ["PER", "LOC", "ORG"]


def random_tags(n):
    pool = ["O", "O"] + [f"{p}-{t}" for p in "BI" for t in TYPES]
    return [random.choice(pool) for _ in range(n)]


@pytest.mark.points(2)
def test_bio_to_spans(submission, reference):
    """bio_to_spans: conlleval rules (I- without B-, type changes, trailing spans)"""
    fixed = [
        ["I-PER", "I-PER", "O"],
        ["B-PER", "I-LOC", "I-LOC"],
        ["O", "B-ORG", "I-ORG", "I-ORG"],
        ["B-PER", "B-PER", "I-PER"],
        ["I-LOC", "B-LOC", "O", "I-LOC"],
        [],
        ["O", "O"],
    ]
    for tags in fixed + [random_tags(random.randint(0, 12)) for _ in range(40)]:
        assert_close(submission.bio_to_spans(tags), reference.bio_to_spans(tags), what="bio_to_spans")


@pytest.mark.points(2)
def test_span_f1(submission, reference):
    """span_f1: micro-averaged over exact spans, one sequence or a batch, 0.0 when undefined"""
    for _ in range(20):
        n_seq = random.randint(1, 4)
        true = [random_tags(random.randint(0, 10)) for _ in range(n_seq)]
        pred = [[t if random.random() < 0.7 else random.choice(["O", "B-PER", "I-PER", "I-LOC"]) for t in seq]
                for seq in true]
        assert_close(submission.span_f1(true, pred), reference.span_f1(true, pred), what="span_f1 of a batch")
        assert_close(submission.span_f1(true[0], pred[0]), reference.span_f1(true[0], pred[0]),
                     what="span_f1 of one sequence")
    zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert_close(submission.span_f1(["O", "O"], ["O", "O"]), zero, what="span_f1 without any span")
    assert_close(submission.span_f1(["B-PER", "O"], ["O", "O"]), zero, what="span_f1 without predicted spans")
    assert_close(submission.span_f1(["O", "O"], ["B-PER", "O"]), zero, what="span_f1 without true spans")
    with pytest.raises(ValueError):
        submission.span_f1(["O", "B-PER"], ["O"])
