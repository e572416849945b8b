import torch


def test_shapes(submission):
    G, D = submission.Generator(), submission.Discriminator()
    G.eval(); D.eval()
    img = G(torch.randn(3, 32))
    assert tuple(img.shape) == (3, 1, 16, 16), f"Generator()(randn(3, 32)) should have shape (3, 1, 16, 16), got {tuple(img.shape)}"
    assert float(img.abs().max()) <= 1.0, f"pixels should lie in [-1, 1], got max |x| = {float(img.abs().max())}"
    logits = D(img)
    assert tuple(logits.shape) == (3,), f"Discriminator()(images of 3) should have shape (3,), got {tuple(logits.shape)}"


def test_weights_init_batchnorm(submission, remote):
    bn = remote.construct("torch.nn.BatchNorm2d", 4000)
    submission.weights_init(bn)
    w, b = bn.weight.detach(), bn.bias.detach()
    assert abs(float(w.mean()) - 1.0) < 0.005 and abs(float(w.std()) - 0.02) < 0.003, \
        f"BatchNorm weights should be ~N(1, 0.02), got mean {float(w.mean()):.4f}, std {float(w.std()):.4f}"
    assert float(b.abs().max()) == 0.0, f"BatchNorm bias should be 0, got max |b| = {float(b.abs().max())}"


def test_conv_init(submission, remote):
    conv = remote.construct("torch.nn.Conv2d", 32, 64, 4)
    submission.weights_init(conv)
    w = conv.weight.detach()
    assert abs(float(w.mean())) < 0.002 and abs(float(w.std()) - 0.02) < 0.002, \
        f"Conv2d weights should be ~N(0, 0.02), got mean {float(w.mean()):.4f}, std {float(w.std()):.4f}"
