"""The forbidden-API rule: find library calls the exercise asks the candidate to write by hand.

The check reads the submitted source (it never runs it). Dotted names are resolved through the
module's imports and simple aliases (``import torch.nn.functional as F`` makes ``F.mse_loss``
``torch.nn.functional.mse_loss``), then matched against fnmatch patterns. String literals naming
a forbidden function are flagged too, which catches ``getattr(F, "mse_loss")``.
"""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    name: str
    line: int
    pattern: str
    #: set when the file could not be checked at all (then ``name`` and ``pattern`` are empty)
    reason: str = ""

    def describe(self, filename: str) -> str:
        if self.reason:
            return f"{filename}: {self.reason}"
        return f"{filename}, line {self.line}: uses {self.name} (forbidden: {self.pattern})"


UNCHECKABLE = ("nested too deeply for the forbidden-API check to read it; write it with less nesting "
               "(a long chain of operators, calls or brackets in one expression)")


class _Resolver:
    """Resolves dotted names through imports and aliases, and collects the forbidden uses."""

    def __init__(self, apis: list[str], attributes: list[str]) -> None:
        self.apis = apis
        self.attributes = set(attributes)
        self.aliases: dict[str, str] = {}
        self.found: list[Violation] = []
        self.leaf_names = {p.rsplit(".", 1)[-1] for p in apis if not any(c in p.rsplit(".", 1)[-1] for c in "*?[")}

    def _match(self, name: str, line: int) -> None:
        for pattern in self.apis:
            if fnmatch.fnmatchcase(name, pattern) or name.startswith(pattern.rstrip("*") + ".") and "*" not in pattern:
                self.found.append(Violation(name, line, pattern))
                return

    def _dotted(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            base = self.aliases.get(node.id, node.id)
            return ".".join([base, *reversed(parts)])
        return None

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                self.aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
            self._match(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module is None or node.level:
            return
        for alias in node.names:
            full = f"{node.module}.{alias.name}"
            self.aliases[alias.asname or alias.name] = full
            self._match(full, node.lineno)
            if alias.name == "*":
                self._match(node.module + ".*", node.lineno)

    def _alias_assignment(self, node: ast.Assign) -> None:
        """After an assignment's children: ``f = F.mse_loss`` makes ``f`` an alias."""
        target_name = self._dotted(node.value) if isinstance(node.value, (ast.Attribute, ast.Name)) else None
        if target_name:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.aliases[target.id] = target_name

    def _attribute(self, node: ast.Attribute) -> bool:
        """Match an attribute chain; whether its children still need a visit."""
        if node.attr in self.attributes:
            self.found.append(Violation(f".{node.attr}", node.lineno, node.attr))
        name = self._dotted(node)
        if name is not None:
            self._match(name, node.lineno)
            return False  # the chain is matched whole; do not re-match its prefixes
        return True

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.aliases and self.aliases[node.id] != node.id:
            self._match(self.aliases[node.id], node.lineno)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and (node.value in self.leaf_names or node.value in self.attributes):
            self.found.append(Violation(repr(node.value), node.lineno, node.value))

    def visit(self, node: ast.AST) -> None:
        """Visit the tree with a stack of our own, in ``generic_visit``'s order.

        Python's recursion limit would stop a recursive visit of code that compiles and runs
        (``a + a + ...`` a few hundred terms long): hiding a call in it must not get it past the
        check, and must not crash the grader.
        """
        stack: list[tuple[ast.AST, bool]] = [(node, False)]
        while stack:
            current, after_children = stack.pop()
            if after_children:
                self._alias_assignment(current)  # type: ignore[arg-type]
                continue
            descend = True
            if isinstance(current, ast.Import):
                self.visit_Import(current)
                descend = False
            elif isinstance(current, ast.ImportFrom):
                self.visit_ImportFrom(current)
                descend = False
            elif isinstance(current, ast.Assign):
                stack.append((current, True))
            elif isinstance(current, ast.Attribute):
                descend = self._attribute(current)
            elif isinstance(current, ast.Name):
                self.visit_Name(current)
                descend = False
            elif isinstance(current, ast.keyword):
                if current.arg in self.attributes:
                    self.found.append(Violation(f"{current.arg}=", current.value.lineno, current.arg))
            elif isinstance(current, ast.Constant):
                self.visit_Constant(current)
                descend = False
            if descend:
                stack.extend((child, False) for child in reversed(list(ast.iter_child_nodes(current))))


def find_violations(source: str, apis: list[str], attributes: list[str] | None = None) -> list[Violation]:
    """Forbidden uses in ``source``; a file that does not parse has none (it fails elsewhere).

    Source too deep for this interpreter's parser gets one violation with a reason: a module
    can raise the recursion limit before it imports such a file, which then compiles and runs.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    except (RecursionError, MemoryError):  # "too complex to parse", "recursion ... during ast construction"
        return [Violation("", 1, "", reason=UNCHECKABLE)]
    resolver = _Resolver(apis, attributes or [])
    # Docstrings may name the forbidden functions ("do not use F.mse_loss"): skip them.
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    resolver.visit(tree)
    seen: set[tuple[str, int]] = set()
    unique = []
    for v in resolver.found:
        if (v.name, v.line) not in seen:
            seen.add((v.name, v.line))
            unique.append(v)
    return unique
