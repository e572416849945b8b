"""Alternative: heap-free beam search over tuples, top-p by an explicit loop over sorted tokens."""

import math

import torch


def _log_softmax(logits):
    xs = [float(v) for v in logits]
    m = max(xs)
    z = m + math.log(sum(math.exp(x - m) for x in xs))
    return [x - z for x in xs]


def greedy_decode(model, bos, eos, max_len):
    out = [bos]
    while len(out) - 1 < max_len:
        logits = model.next_logits(list(out)).tolist()
        best = max(range(len(logits)), key=lambda i: (logits[i], -i))
        out.append(best)
        if best == eos:
            break
    return out


def beam_search(model, bos, eos, beam_size, max_len, length_penalty=1.0):
    live = [((bos,), 0.0)]
    done = []
    for _ in range(max_len):
        pool = []
        for b, (seq, score) in enumerate(live):
            lp = _log_softmax(model.next_logits(list(seq)))
            for t, v in enumerate(lp):
                pool.append((score + v, b, t, seq + (t,)))
        pool.sort(key=lambda c: (-c[0], c[1], c[2]))
        live = []
        for score, _, t, seq in pool[:beam_size]:
            (done if t == eos else live).append((seq, score))
        if not live:
            break
    done += live
    scored = [(list(s), lp / ((len(s) - 1) ** length_penalty)) for s, lp in done]
    scored.sort(key=lambda x: -x[1])
    return scored[:beam_size]


def top_k_top_p_filter(logits, top_k=None, top_p=None):
    flat = logits.reshape(-1, logits.shape[-1]).clone()
    V = flat.shape[1]
    for row in flat:
        vals = row.tolist()
        keep = [True] * V
        if top_k:
            kth = sorted(vals, reverse=True)[min(top_k, V) - 1]
            keep = [v >= kth for v in vals]
        if top_p is not None and top_p < 1.0:
            kept_vals = [v if k else float("-inf") for v, k in zip(vals, keep)]
            m = max(kept_vals)
            ex = [math.exp(v - m) if k else 0.0 for v, k in zip(kept_vals, keep)]
            tot = sum(ex)
            order = sorted(range(V), key=lambda i: (-kept_vals[i], i))
            mass = 0.0
            new_keep = [False] * V
            for i in order:
                if mass >= top_p and new_keep != [False] * V:
                    break
                new_keep[i] = keep[i]
                mass += ex[i] / tot
            keep = new_keep
        for i in range(V):
            if not keep[i]:
                row[i] = float("-inf")
    return flat.reshape(logits.shape)


def sample(model, bos, eos, max_len, temperature=1.0, top_k=None, top_p=None, generator=None):
    seq = [bos]
    for _ in range(max_len):
        logits = model.next_logits(seq) / temperature
        filtered = top_k_top_p_filter(logits, top_k, top_p)
        p = torch.softmax(filtered, dim=-1)
        # inverse-CDF sampling with one uniform draw
        u = float(torch.rand((), generator=generator, dtype=torch.float64))
        c = torch.cumsum(p.to(torch.float64), 0)
        tok = int(torch.searchsorted(c, torch.tensor([u * float(c[-1])], dtype=torch.float64), right=True)[0])
        tok = min(tok, len(p) - 1)
        while float(p[tok]) == 0.0:  # never land on a filtered token
            tok -= 1
        seq.append(tok)
        if tok == eos:
            break
    return seq
