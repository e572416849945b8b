"""Reference solution: linear-chain CRF decoding and likelihood, and span-level NER evaluation.

Score of a tag path y_0..y_{T-1}:
    start[y_0] + sum_t emissions[t, y_t] + sum_{t>0} transitions[y_{t-1}, y_t] + end[y_{T-1}]
"""

from __future__ import annotations

import torch


# ---------------------------------------------------------------------------------------------
# Viterbi
# ---------------------------------------------------------------------------------------------
def viterbi_decode(emissions: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
                   end: torch.Tensor) -> tuple[list[int], float]:
    """Best tag path and its score; among equally good paths the lexicographically smallest."""
    em, tr, st, en = (x.detach().double() for x in (emissions, transitions, start, end))
    T, K = em.shape
    delta = st + em[0]
    back = []
    for t in range(1, T):
        scores = delta.unsqueeze(1) + tr                  # [i, j]
        delta, idx = scores.max(dim=0)
        delta = delta + em[t]
        back.append(idx)
    final = delta + en
    score = float(final.max())
    path = [int(final.argmax())]
    for idx in reversed(back):
        path.append(int(idx[path[-1]]))
    path.reverse()
    return path, score


def viterbi_decode_batch(emissions: torch.Tensor, mask: torch.Tensor, transitions: torch.Tensor,
                         start: torch.Tensor, end: torch.Tensor) -> list[list[int]]:
    """Decode each sequence of the batch over its unmasked prefix."""
    lengths = mask.long().sum(dim=1).tolist()
    return [viterbi_decode(emissions[b, :n], transitions, start, end)[0] for b, n in enumerate(lengths)]


# ---------------------------------------------------------------------------------------------
# Likelihood
# ---------------------------------------------------------------------------------------------
def crf_log_partition(emissions: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
                      end: torch.Tensor) -> torch.Tensor:
    """log of the sum over all tag paths of exp(score): forward algorithm in log space."""
    single = emissions.dim() == 2
    em = emissions.unsqueeze(0) if single else emissions            # [B, T, K]
    alpha = start.unsqueeze(0) + em[:, 0]                            # [B, K]
    for t in range(1, em.shape[1]):
        # alpha'[b, j] = logsumexp_i alpha[b, i] + tr[i, j] + em[b, t, j]; logsumexp is stable.
        alpha = torch.logsumexp(alpha.unsqueeze(2) + transitions.unsqueeze(0), dim=1) + em[:, t]
    logz = torch.logsumexp(alpha + end.unsqueeze(0), dim=1)          # [B]
    return logz[0] if single else logz


def _path_score(emissions: torch.Tensor, tags: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
                end: torch.Tensor) -> torch.Tensor:
    # emissions [B, T, K], tags [B, T] -> [B]
    score = start[tags[:, 0]] + emissions.gather(2, tags.unsqueeze(2)).squeeze(2).sum(dim=1)
    score = score + transitions[tags[:, :-1], tags[:, 1:]].sum(dim=1)
    return score + end[tags[:, -1]]


def crf_nll(emissions: torch.Tensor, tags: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
            end: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of the given tag path(s): log Z - score(tags)."""
    single = emissions.dim() == 2
    em = emissions.unsqueeze(0) if single else emissions
    tg = (tags.unsqueeze(0) if single else tags).long()
    nll = crf_log_partition(em, transitions, start, end) - _path_score(em, tg, transitions, start, end)
    return nll[0] if single else nll


# ---------------------------------------------------------------------------------------------
# BIO spans and span-level F1
# ---------------------------------------------------------------------------------------------
def _split(tag: str) -> tuple[str, str]:
    if tag == "O":
        return "O", ""
    return tag[0], tag[2:]


def bio_to_spans(tags: list[str]) -> list[tuple[str, int, int]]:
    """Chunks (type, start, end exclusive) by the conlleval rules."""
    spans = []
    cur_type, cur_start = None, 0
    for i, tag in enumerate(tags):
        prefix, typ = _split(tag)
        # A chunk starts at B-, at I- after O, and at I- whose type differs from the open chunk.
        starts = prefix == "B" or (prefix == "I" and cur_type != typ)
        if cur_type is not None and (prefix == "O" or starts):
            spans.append((cur_type, cur_start, i))   # the open chunk ends before this tag
            cur_type = None
        if starts:
            cur_type, cur_start = typ, i
    if cur_type is not None:
        spans.append((cur_type, cur_start, len(tags)))   # a chunk running to the end
    return spans


def span_f1(true_tags, pred_tags) -> dict:
    """Micro precision, recall and F1 over exactly matching spans (0.0 when undefined)."""
    def flat(x) -> bool:
        return len(x) > 0 and isinstance(x[0], str)

    if flat(true_tags) or flat(pred_tags):                 # one sequence: make it a batch of one
        true_tags, pred_tags = [true_tags], [pred_tags]
    if len(true_tags) != len(pred_tags):
        raise ValueError("true_tags and pred_tags hold different numbers of sequences")
    n_true = n_pred = n_correct = 0
    for t_seq, p_seq in zip(true_tags, pred_tags):
        if len(t_seq) != len(p_seq):
            raise ValueError("a true and a predicted sequence differ in length")
        t_spans, p_spans = set(bio_to_spans(t_seq)), set(bio_to_spans(p_seq))
        n_true += len(t_spans)
        n_pred += len(p_spans)
        n_correct += len(t_spans & p_spans)
    precision = n_correct / n_pred if n_pred else 0.0
    recall = n_correct / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}
