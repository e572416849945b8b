"""Alternative: let the tokenizer pad each batch (padding=True) and batch in input order."""

import torch


def predict(model, tokenizer, texts, batch_size=8, max_length=64):
    mode = model.training
    model.train(False)
    out = []
    try:
        for i in range(0, len(texts), batch_size):
            enc = tokenizer(texts[i:i + batch_size], padding=True, truncation=True, max_length=max_length,
                            return_tensors="pt")
            with torch.inference_mode():
                logits = model(**enc).logits
            p = logits.softmax(-1)
            for row in p:
                out.append({"label": int(torch.argmax(row).item()), "probs": row.tolist()})
    finally:
        model.train(mode)
    return out


def padding_cost(tokenizer, texts, batch_size, max_length, sort_by_length):
    lens = [len(tokenizer.encode(t, truncation=True, max_length=max_length)) for t in texts]
    if sort_by_length:
        lens.sort()
    total = 0
    i = 0
    while i < len(lens):
        b = lens[i:i + batch_size]
        total += sum(max(b) - x for x in b)
        i += batch_size
    return total
