"""Public tests for q20_cnn_builder."""

import torch


def test_build_cnn_layers(submission):
    model = submission.build_cnn(3, 10, [8, 16])
    names = [model[i].remote_type.rsplit(".", 1)[-1] for i in range(len(model))]
    expected = ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d",
                "AdaptiveAvgPool2d", "Flatten", "Linear"]
    assert names == expected, f"build_cnn(3, 10, [8, 16]) layers: expected {expected}, got {names}"
    out = model(torch.randn(2, 3, 32, 32))
    assert tuple(out.shape) == (2, 10), f"output shape for 2 images of 3x32x32: expected (2, 10), got {tuple(out.shape)}"


def test_count_parameters(submission):
    model = submission.build_cnn(3, 10, [8, 16])
    # conv 3*3*3*8 = 216, BN 16, conv 3*3*8*16 = 1152, BN 32, Linear 16*10 + 10 = 170
    got = submission.count_parameters(model)
    assert got == 1586, f"count_parameters(build_cnn(3, 10, [8, 16])) should be 1586, got {got!r}"
    model = submission.build_cnn(1, 2, [4], kernel_size=5, use_bn=False)
    # conv 5*5*1*4 + 4 = 104, Linear 4*2 + 2 = 10
    got = submission.count_parameters(model)
    assert got == 114, f"count_parameters(build_cnn(1, 2, [4], 5, use_bn=False)) should be 114, got {got!r}"


def test_receptive_field(submission):
    layers = [("conv", 3, 1), ("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1)]
    got = submission.receptive_field(layers)
    # 1 + 2 + 2 = 5 before the pool, + 1 = 6 after it, then + 2 * 2 = 10
    assert got == 10, f"receptive_field({layers}) should be 10, got {got!r}"


def test_feature_map_shapes(submission):
    model = submission.build_cnn(1, 4, [6])
    got = submission.feature_map_shapes(model, (2, 1, 8, 8))
    expected = [(2, 6, 8, 8), (2, 6, 8, 8), (2, 6, 8, 8), (2, 6, 4, 4), (2, 6, 1, 1), (2, 6), (2, 4)]
    assert got == expected, f"feature_map_shapes(build_cnn(1, 4, [6]), (2, 1, 8, 8)): expected {expected}, got {got}"
