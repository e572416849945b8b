import pytest, torch

@pytest.mark.points(2)
def test_accuracy(submission, reference):
    """accuracy on random labels"""
    y = torch.randint(0, 3, (50,)); p = torch.randint(0, 3, (50,))
    got = submission.accuracy(y, p)
    assert type(got) is float, f"expected a Python float, got {type(got).__name__}"
    assert abs(got - reference.accuracy(y, p)) < 1e-9, "accuracy differs from the reference"

def test_empty(submission):
    with pytest.raises(ValueError):
        submission.accuracy(torch.tensor([]), torch.tensor([]))
