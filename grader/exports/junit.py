"""``OUT/junit.xml``: one ``<testsuite>`` per candidate and exercise (read back with junitparser in tests).

Suite names are ``<candidate>.<exercise>``; every suite carries ``candidate``, ``exercise``,
``status``, ``score`` and ``max_score`` properties and every test case ``points`` and
``max_points``, so CI dashboards show pass/fail while scripts can still recover the scores.
Outcomes map to JUnit as: passed -> pass; failed, missing, forbidden_api, invalid_submission ->
``<failure>``; error, timeout, memory_limit, crashed -> ``<error>``.
"""

from __future__ import annotations

import re
from pathlib import Path

import xml.etree.ElementTree as ET

from grader.results import CandidateResult, atomic_write_text

ERROR_OUTCOMES = frozenset({"error", "timeout", "memory_limit", "crashed"})
# Characters XML 1.0 cannot carry at all (candidate output may contain any of them).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
MAX_TEXT = 64 * 1024


def xml_text(text: str, limit: int = MAX_TEXT) -> str:
    text = _XML_ILLEGAL.sub("\ufffd", text)
    if len(text) > limit:
        text = text[:limit] + f"\n... ({len(text) - limit} characters cut)"
    return text


def _fmt(x: float) -> str:
    return f"{x:g}"


def suite_name(candidate: str, exercise: str) -> str:
    return f"{candidate}.{exercise}"


class JUnitDocument:
    """The junit.xml tree (ElementTree: a big batch renders in a fraction of junitparser's time)."""

    def __init__(self, root: ET.Element) -> None:
        self.root = root

    def tostring(self) -> bytes:
        return ET.tostring(self.root, encoding="utf-8", xml_declaration=True)


def _properties(parent: ET.Element, pairs: dict[str, str]) -> None:
    props = ET.SubElement(parent, "properties")
    for k, v in pairs.items():
        ET.SubElement(props, "property", name=k, value=xml_text(v, 1024))


def _case(suite: ET.Element, name: str, classname: str, time_s: float, outcome: str, message: str,
          props: dict[str, str]) -> tuple[int, int]:
    case = ET.SubElement(suite, "testcase", name=xml_text(name, 1024), classname=classname, time=f"{time_s:.6g}")
    failures = errors = 0
    if outcome != "passed":
        text = xml_text(message or outcome)
        first = text.splitlines()[0] if text.strip() else outcome
        tag = "error" if outcome in ERROR_OUTCOMES else "failure"
        res = ET.SubElement(case, tag, message=first[:500], type=outcome)
        res.text = text
        errors, failures = (1, 0) if tag == "error" else (0, 1)
    _properties(case, props)
    return failures, errors


def junit_xml(results: list[CandidateResult]) -> JUnitDocument:
    root = ET.Element("testsuites", name="grader")
    totals = [0, 0, 0, 0.0]
    for r in results:
        for e in r.exercises:
            name = xml_text(suite_name(r.candidate, e.id), 1024)
            suite = ET.SubElement(root, "testsuite", name=name, timestamp=r.started_at.isoformat())
            _properties(suite, {"candidate": r.candidate, "exercise": e.id, "status": e.status,
                                "score": _fmt(e.score), "max_score": _fmt(e.max_score), "sandbox": r.sandbox})
            n = failures = errors = 0
            first_case: ET.Element | None = None
            for t in e.tests:
                f, er = _case(suite, t.id, name, round(t.duration_s, 6), t.outcome, t.message,
                              {"points": _fmt(t.points), "max_points": _fmt(t.max_points), "visibility": t.visibility})
                n, failures, errors = n + 1, failures + f, errors + er
            if not e.tests and e.status != "graded":
                # Nothing ran (not submitted, import error...): one case so the suite shows why.
                _case(suite, e.status, name, round(e.duration_s, 6), "missing", e.message or e.status,
                      {"points": "0", "max_points": _fmt(e.max_score), "visibility": "public"})
                n, failures = n + 1, failures + 1
            first_case = suite.find("testcase")
            if first_case is not None and e.log:
                ET.SubElement(first_case, "system-out").text = xml_text(e.log)
            suite.set("tests", str(n))
            suite.set("failures", str(failures))
            suite.set("errors", str(errors))
            suite.set("skipped", "0")
            suite.set("time", f"{round(e.duration_s, 6):.6g}")
            totals = [totals[0] + n, totals[1] + failures, totals[2] + errors, totals[3] + e.duration_s]
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    root.set("time", f"{round(totals[3], 6):.6g}")
    return JUnitDocument(root)


def write_junit(out: Path, results: list[CandidateResult]) -> Path:
    path = out / "junit.xml"
    atomic_write_text(path, junit_xml(results).tostring().decode("utf-8"))
    return path
