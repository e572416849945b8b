"""Regenerate examples/batch/ (the README demo) from the reference solutions and mutants.

    python examples/build_batch.py

Four candidates: alice (full marks), bob (partial: two realistic bugs), carol (a syntax error at
import time in one exercise), dave (a function that never returns).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = Path(__file__).resolve().parent / "batch"


def reference(ex: str, module: str) -> str:
    return (ROOT / "solutions" / ex / module).read_text()


def mutant(ex: str, name: str, module: str) -> str:
    return (ROOT / "exercises" / ex / "mutants" / name / module).read_text()


def write(candidate: str, ex: str, module: str, source: str) -> None:
    path = BATCH / candidate / ex / module
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


def main() -> None:
    shutil.rmtree(BATCH, ignore_errors=True)
    for ex, module in (("q01_eval_metrics", "metrics.py"), ("q18_loss_functions", "losses.py"),
                       ("q28_attention", "attention.py")):
        write("alice", ex, module, reference(ex, module))
    write("bob", "q01_eval_metrics", "metrics.py", mutant("q01_eval_metrics", "auc_ties_ignored", "metrics.py"))
    write("bob", "q18_loss_functions", "losses.py", mutant("q18_loss_functions", "naive_log_softmax", "losses.py"))
    write("bob", "q28_attention", "attention.py", reference("q28_attention", "attention.py"))
    broken = reference("q01_eval_metrics", "metrics.py").replace("def accuracy(", "def accuracy(\n", 1)
    broken = re.sub(r"def accuracy\(\n", "def accuracy(y_true, y_pred\n    ", broken, count=1)
    write("carol", "q01_eval_metrics", "metrics.py", broken)
    write("carol", "q18_loss_functions", "losses.py", reference("q18_loss_functions", "losses.py"))
    hangs = reference("q01_eval_metrics", "metrics.py").replace(
        "def roc_auc(", "def roc_auc(y_true, scores):\n    while True:  # never returns\n        pass\n\n\ndef _unused_roc_auc(", 1)
    write("dave", "q01_eval_metrics", "metrics.py", hangs)
    write("dave", "q28_attention", "attention.py", reference("q28_attention", "attention.py"))
    print(f"wrote {BATCH}")


if __name__ == "__main__":
    main()
