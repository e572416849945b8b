"""Reference solution for q26_decoding: greedy search, beam search, top-k / top-p sampling.

The model is anything with ``next_logits(prefix: list[int]) -> Tensor[V]`` and ``vocab_size``.
Sequences start with ``bos``; ``max_len`` counts generated tokens; ``eos`` ends a sequence and is kept.
"""

from __future__ import annotations

import torch


def greedy_decode(model, bos: int, eos: int, max_len: int) -> list[int]:
    seq = [bos]
    for _ in range(max_len):
        tok = int(torch.argmax(model.next_logits(seq)))  # first maximum: ties go to the lowest index
        seq.append(tok)
        if tok == eos:
            break
    return seq


def beam_search(model, bos: int, eos: int, beam_size: int, max_len: int,
                length_penalty: float = 1.0) -> list[tuple[list[int], float]]:
    beams: list[tuple[list[int], float]] = [([bos], 0.0)]
    finished: list[tuple[list[int], float]] = []
    for _ in range(max_len):
        # Score every beam x vocabulary extension by its summed log-probability.
        cands = []
        for seq, lp in beams:
            logp = torch.log_softmax(model.next_logits(seq).to(torch.float64), dim=-1)
            for tok in range(logp.shape[0]):
                cands.append((lp + float(logp[tok]), seq + [tok]))
        # Keep the best beam_size; sorted() is stable, so ties keep beam-major, token-minor order.
        cands = sorted(cands, key=lambda c: -c[0])[:beam_size]
        beams = []
        for lp, seq in cands:
            if seq[-1] == eos:
                finished.append((seq, lp))   # a finished hypothesis leaves the beam (the beam shrinks)
            else:
                beams.append((seq, lp))
        if not beams:
            break
    finished.extend(beams)                   # after max_len steps, live hypotheses count as finished

    def normalised(item):
        seq, lp = item
        return lp / (len(seq) - 1) ** length_penalty  # generated tokens, eos included, bos not

    ranked = sorted(finished, key=lambda it: -normalised(it))[:beam_size]
    return [(seq, float(normalised((seq, lp)))) for seq, lp in ranked]


def top_k_top_p_filter(logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
    out = logits.clone()
    neg_inf = torch.tensor(float("-inf"), dtype=out.dtype)
    if top_k is not None and top_k > 0 and top_k < out.shape[-1]:
        idx = torch.topk(out, top_k, dim=-1).indices
        keep = torch.zeros_like(out, dtype=torch.bool).scatter(-1, idx, True)
        out = torch.where(keep, out, neg_inf)
    if top_p is not None and top_p < 1.0:
        # Rank by descending logit, ties by lower index (stable sort), and keep the smallest prefix
        # whose probability mass reaches top_p: a token is dropped if the mass *before* it is already >= top_p.
        sorted_logits, order = torch.sort(out, dim=-1, descending=True, stable=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        mass_before = torch.cumsum(probs, dim=-1) - probs
        drop_sorted = mass_before >= top_p
        drop_sorted[..., 0] = False                   # always keep the best token
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        out = out.masked_fill(drop, float("-inf"))
    return out


def sample(model, bos: int, eos: int, max_len: int, temperature: float = 1.0, top_k: int | None = None,
           top_p: float | None = None, generator: torch.Generator | None = None) -> list[int]:
    seq = [bos]
    for _ in range(max_len):
        logits = model.next_logits(seq) / temperature          # temperature first, then filtering
        probs = torch.softmax(top_k_top_p_filter(logits, top_k, top_p), dim=-1)
        tok = int(torch.multinomial(probs, 1, generator=generator))
        seq.append(tok)
        if tok == eos:
            break
    return seq
