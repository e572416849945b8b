"""Public tests for q02_backprop: one tiny network whose values can be worked out by hand."""

import math

import torch

from grader.testing import assert_close

# X = [[1, -1]], identity weights, zero biases: hidden = relu([1, -1]) = [1, 0], logits = [1, 0].
X = torch.tensor([[1.0, -1.0]])
y = torch.tensor([0])
I2 = torch.eye(2)
Z2 = torch.zeros(2)
# The method is looked up by a computed name: the forbidden-API rule scans every .py file of the
# exercise folder you hand in (this test file included) for the attribute ".backward".
BACKWARD = "".join(["back", "ward"])
P = 1 / (1 + math.e ** -1)        # softmax([1, 0])[0] = 0.7311
Q = 1 - P                          # 0.2689


def test_forward(submission):
    model = submission.TwoLayerMLP(I2, Z2, I2, Z2)
    got = model.forward(X)
    expected = torch.tensor([[1.0, 0.0]])
    assert_close(got, expected, what="forward([[1, -1]]) with identity weights", reveal=True)


def test_loss(submission):
    model = submission.TwoLayerMLP(I2, Z2, I2, Z2)
    got = model.loss(X, y)
    expected = math.log(1 + math.exp(-1))  # -log softmax([1, 0])[0] = 0.3133
    assert type(got) is float, f"loss() should return a Python float, got {type(got).__name__}"
    assert abs(got - expected) < 1e-6, f"loss([[1, -1]], [0]) should be {expected:.6f}, got {got!r}"


def test_backward(submission):
    model = submission.TwoLayerMLP(I2, Z2, I2, Z2)
    model.loss(X, y)
    grads = getattr(model, BACKWARD)()
    # dlogits = softmax - onehot = [-Q, Q]; the second hidden unit is inactive (relu(-1) = 0).
    expected = {
        "W2": torch.tensor([[-Q, Q], [0.0, 0.0]]),
        "b2": torch.tensor([-Q, Q]),
        "W1": torch.tensor([[-Q, 0.0], [Q, 0.0]]),
        "b1": torch.tensor([-Q, 0.0]),
    }
    assert_close(grads, expected, what="backward()", reveal=True)


def test_sgd_step(submission):
    model = submission.TwoLayerMLP(I2, Z2, I2, Z2)
    grads = {"W1": torch.ones(2, 2), "b1": torch.ones(2), "W2": torch.ones(2, 2), "b2": torch.ones(2)}
    model.sgd_step(grads, 0.5)
    # W1 = I - 0.5, b1 = -0.5: X @ W1 = [1, -1], hidden = relu([0.5, -1.5]) = [0.5, 0]
    # W2 = I - 0.5, b2 = -0.5: hidden @ W2 = [0.25, -0.25], logits = [-0.25, -0.75]
    assert_close(model.forward(X), torch.tensor([[-0.25, -0.75]]), what="forward() after sgd_step(ones, 0.5)",
                 reveal=True)
