from grader.forbidden import find_violations

APIS = ["torch.nn.functional.cross_entropy", "torch.nn.functional.*_loss", "torch.nn.*Loss"]


def names(source: str, apis=APIS, attributes=None) -> list[str]:
    return [v.name for v in find_violations(source, apis, attributes)]


def test_direct_and_aliased_calls():
    assert names("import torch\ntorch.nn.functional.cross_entropy(a, b)") == ["torch.nn.functional.cross_entropy"]
    assert names("import torch.nn.functional as F\nF.mse_loss(a, b)") == ["torch.nn.functional.mse_loss"]
    assert names("from torch.nn import functional as F\nF.l1_loss(a, b)") == ["torch.nn.functional.l1_loss"]
    assert names("from torch import nn\nnn.CrossEntropyLoss()") == ["torch.nn.CrossEntropyLoss"]
    assert names("from torch.nn.functional import cross_entropy as ce\nce(a, b)")


def test_reassignment_and_getattr_strings():
    assert names("import torch\nf = torch.nn.functional\nf.cross_entropy(a, b)")
    assert names("import torch.nn.functional as F\ngetattr(F, 'cross_entropy')(a, b)")


def test_clean_code_and_docstrings_pass():
    src = '''"""Do not use torch.nn.functional.cross_entropy here."""
import torch

def cross_entropy(logits, target):
    """Like F.cross_entropy, by hand."""
    return -(logits.log_softmax(-1)).mean()
'''
    assert names(src) == []


def test_forbidden_attributes():
    src = "def f(x):\n    x.requires_grad_(True)\n    y = x.sum()\n    y.backward()\n"
    assert names(src, [], ["backward", "requires_grad_"]) == [".requires_grad_", ".backward"]
    assert names("import torch\nt = torch.zeros(2, requires_grad=True)", [], ["requires_grad"]) == ["requires_grad="]


def test_syntax_errors_are_not_violations():
    assert names("def broken(:\n") == []


def test_a_call_at_the_end_of_a_long_chain_is_found():
    # Compiles and runs, but a recursive visit of it exceeds Python's recursion limit.
    src = "import torch.nn.functional as F\nx = " + " + ".join(["a"] * 1500 + ["F.mse_loss(a, b)"]) + "\n"
    compile(src, "deep.py", "exec")
    assert names(src) == ["torch.nn.functional.mse_loss"]


def test_source_too_deep_to_read_is_flagged_not_passed():
    src = "import torch.nn.functional as F\nx = " + " + ".join(["a"] * 5000 + ["F.mse_loss(a, b)"]) + "\n"
    [violation] = find_violations(src, APIS)
    assert violation.reason and "nested too deeply" in violation.describe("m.py")
    assert violation.describe("m.py").startswith("m.py: ")
