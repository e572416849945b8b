import pytest
import torch

from grader.testing import fetch, keep


@pytest.mark.points(2)
def test_generator_shape_and_range(submission):
    """Generator maps (N, z_dim) noise to (N, 1, 16, 16) float32 images in [-1, 1], in train and eval mode"""
    for z_dim, bc, n in [(32, 32, 4), (8, 16, 3), (16, 8, 5)]:
        G = submission.Generator(z_dim, bc)
        for mode in ("train", "eval"):
            getattr(G, mode)()
            z = torch.randn(n, z_dim)
            out = G(z)
            assert type(out) is torch.Tensor and out.dtype == torch.float32, \
                f"Generator({z_dim}, {bc}) should return a float32 tensor"
            assert tuple(out.shape) == (n, 1, 16, 16), \
                f"Generator({z_dim}, {bc}) output has shape {tuple(out.shape)}, expected (N, 1, 16, 16)"
            assert bool(torch.isfinite(out).all()) and float(out.min()) >= -1.0 and float(out.max()) <= 1.0, \
                "generated pixels are not in [-1, 1]"
    G = submission.Generator()
    G.eval()
    out = G(torch.randn(2, 32) * 100)
    assert float(out.min()) >= -1.0 and float(out.max()) <= 1.0, "large noise drives pixels outside [-1, 1]"


@pytest.mark.points(2)
def test_discriminator_shape(submission):
    """Discriminator maps (N, 1, 16, 16) images to N logits (shape (N,)), in train and eval mode"""
    for bc, n in [(32, 4), (16, 3), (8, 6)]:
        D = submission.Discriminator(bc)
        for mode in ("train", "eval"):
            getattr(D, mode)()
            out = D(torch.rand(n, 1, 16, 16) * 2 - 1)
            assert type(out) is torch.Tensor and out.dtype == torch.float32, "Discriminator should return a float32 tensor"
            assert tuple(out.shape) == (n,), f"Discriminator output has shape {tuple(out.shape)}, expected (N,)"
            assert bool(torch.isfinite(out).all()), "Discriminator output is not finite"
    D = submission.Discriminator()
    D.eval()
    assert tuple(D(torch.rand(1, 1, 16, 16)).shape) == (1,), "Discriminator output for one image should have shape (1,)"


@pytest.mark.points(2)
def test_layer_types(submission, remote):
    """G upsamples with ConvTranspose2d and ends in Tanh; D uses convolutions and LeakyReLU and outputs logits (no Sigmoid)"""
    g = remote.helpers.describe_model(submission.Generator())
    d = remote.helpers.describe_model(submission.Discriminator())
    assert g["types"].count("ConvTranspose2d") >= 2, "the generator should upsample with (at least two) ConvTranspose2d layers"
    assert "Tanh" in g["types"], "the generator's output layer should be a Tanh"
    assert "BatchNorm2d" in g["types"] and "BatchNorm2d" in d["types"], "both networks should use BatchNorm2d"
    assert g["types"].count("Linear") == 0, "the generator should be fully convolutional (no Linear layers)"
    assert d["types"].count("Conv2d") >= 2, "the discriminator should downsample with (at least two) Conv2d layers"
    assert "LeakyReLU" in d["types"], "the discriminator should use LeakyReLU"
    assert "Sigmoid" not in d["types"], "the discriminator should output logits, not probabilities (no Sigmoid)"


@pytest.mark.points(1)
def test_parameter_counts(submission, remote):
    """parameter counts lie within the stated bounds and grow with base_channels"""
    g = remote.helpers.describe_model(submission.Generator())
    d = remote.helpers.describe_model(submission.Discriminator())
    assert 20_000 <= g["params"] <= 2_000_000, "Generator() has a parameter count outside [20k, 2M]"
    assert 5_000 <= d["params"] <= 1_000_000, "Discriminator() has a parameter count outside [5k, 1M]"
    assert g["trainable"] == g["params"] and d["trainable"] == d["params"], "some parameters are frozen"
    g_small = remote.helpers.describe_model(submission.Generator(32, 8))["params"]
    d_small = remote.helpers.describe_model(submission.Discriminator(8))["params"]
    assert g_small < g["params"] and d_small < d["params"], "parameter counts do not grow with base_channels"


def _check_stats(t, mean, std, what, n_min):
    assert t.numel() >= n_min, f"{what}: expected at least {n_min} values to initialise"
    m, s = float(t.mean()), float(t.std())
    n = t.numel()
    # 5 standard errors of the sample mean / standard deviation (plus a little slack)
    assert abs(m - mean) < 5 * std / n ** 0.5 + 1e-4, f"{what} should have mean {mean} after weights_init"
    assert abs(s - std) < 5 * std / (2 * n) ** 0.5 + 0.03 * std, \
        f"{what} should have standard deviation {std} after weights_init"


@pytest.mark.points(2)
def test_weights_init_on_models(submission, remote):
    """model.apply(weights_init): conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0"""
    init = submission.weights_init
    for model in (submission.Generator(32, 64), submission.Discriminator(64)):
        model.apply(init)
        t = remote.helpers.init_tensors(model)
        _check_stats(t["conv_weight"], 0.0, 0.02, "convolution weights", 1000)
        _check_stats(t["bn_weight"], 1.0, 0.02, "BatchNorm weights", 100)
        if t["bias"].numel():
            assert float(t["bias"].abs().max()) == 0.0, "biases should be zero after weights_init"


@pytest.mark.points(2)
def test_weights_init_on_layers(submission, remote):
    """weights_init on single layers: Conv2d, ConvTranspose2d (with bias), BatchNorm2d; Linear untouched"""
    init = submission.weights_init
    for path, args in [("torch.nn.Conv2d", (16, 64, 4)), ("torch.nn.ConvTranspose2d", (64, 32, 4))]:
        layer = remote.construct(path, *args)
        init(layer)
        w, b = fetch(keep(layer).weight.detach()), fetch(keep(layer).bias.detach())
        _check_stats(w, 0.0, 0.02, f"{path.rsplit('.', 1)[1]} weight", 1000)
        assert float(b.abs().max()) == 0.0, f"{path.rsplit('.', 1)[1]} bias should be zero after weights_init"
    bn = remote.construct("torch.nn.BatchNorm2d", 2000)
    init(bn)
    _check_stats(fetch(keep(bn).weight.detach()), 1.0, 0.02, "BatchNorm2d weight", 1000)
    assert float(fetch(keep(bn).bias.detach()).abs().max()) == 0.0, "BatchNorm2d bias should be zero after weights_init"
    lin = remote.construct("torch.nn.Linear", 8, 4)
    before = fetch(keep(lin).weight.detach().clone())
    init(lin)
    assert torch.equal(fetch(keep(lin).weight.detach()), before), "weights_init should leave a Linear layer unchanged"


@pytest.mark.points(1)
def test_gradients_reach_input(submission, remote):
    """gradients flow from D's logits back to its input images and to every parameter of G"""
    D = submission.Discriminator()
    x = remote.construct("torch.nn.Parameter", torch.randn(4, 1, 16, 16))
    keep(D)(x).sum().backward()
    grad = fetch(keep(x).grad)
    assert type(grad) is torch.Tensor and bool(torch.isfinite(grad).all()) and float(grad.abs().sum()) > 0, \
        "no gradient reaches the discriminator's input"
    G = submission.Generator()
    images = keep(G)(torch.randn(4, 32))
    keep(D)(images).sum().backward()
    missing = remote.helpers.params_without_grad(G)
    assert missing == [], "some generator parameters get no gradient through D(G(z))"
