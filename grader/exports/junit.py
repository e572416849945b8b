"""``OUT/junit.xml``: one ``<testsuite>`` per candidate and exercise, written with junitparser.

Suite names are ``<candidate>.<exercise>``; every suite carries ``candidate``, ``exercise``,
``status``, ``score`` and ``max_score`` properties and every test case ``points`` and
``max_points``, so CI dashboards show pass/fail while scripts can still recover the scores.
Outcomes map to JUnit as: passed -> pass; failed, missing, forbidden_api, invalid_submission ->
``<failure>``; error, timeout, memory_limit, crashed -> ``<error>``.
"""

from __future__ import annotations

import re
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Properties, Property, TestCase, TestSuite

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


def _props(pairs: dict[str, str]) -> Properties:
    props = Properties()
    for k, v in pairs.items():
        props.add_property(Property(k, xml_text(v, 1024)))
    return props


def suite_name(candidate: str, exercise: str) -> str:
    return f"{candidate}.{exercise}"


def junit_xml(results: list[CandidateResult]) -> JUnitXml:
    xml = JUnitXml("grader")
    for r in results:
        for e in r.exercises:
            name = xml_text(suite_name(r.candidate, e.id), 1024)
            suite = TestSuite(name)
            suite.timestamp = r.started_at.isoformat()
            for k, v in {"candidate": r.candidate, "exercise": e.id, "status": e.status, "score": _fmt(e.score),
                         "max_score": _fmt(e.max_score), "sandbox": r.sandbox}.items():
                suite.add_property(k, xml_text(v, 1024))
            cases = []
            for t in e.tests:
                case = TestCase(xml_text(t.id, 1024), classname=name, time=round(t.duration_s, 6))
                if t.outcome != "passed":
                    message = xml_text(t.message or t.outcome)
                    first = message.splitlines()[0] if message.strip() else t.outcome
                    res = (Error if t.outcome in ERROR_OUTCOMES else Failure)(first[:500], t.outcome)
                    res.text = message
                    case.result = [res]
                case.append(_props({"points": _fmt(t.points), "max_points": _fmt(t.max_points),
                                    "visibility": t.visibility}))
                cases.append(case)
            if not e.tests and e.status != "graded":
                # Nothing ran (not submitted, import error...): one case so the suite shows why.
                case = TestCase(e.status, classname=name, time=round(e.duration_s, 6))
                res = Failure(xml_text(e.message or e.status)[:500], e.status)
                res.text = xml_text(e.message or e.status)
                case.result = [res]
                case.append(_props({"points": "0", "max_points": _fmt(e.max_score), "visibility": "public"}))
                cases.append(case)
            if cases and e.log:
                cases[0].system_out = xml_text(e.log)
            for case in cases:
                suite.append(case)
            # Counted here rather than by update_statistics(), which re-walks every case (slow on big batches).
            results_ = [c.result[0] for c in cases if c.result]
            suite.tests = len(cases)
            suite.failures = sum(isinstance(x, Failure) for x in results_)
            suite.errors = sum(isinstance(x, Error) for x in results_)
            suite.skipped = 0
            suite.time = round(e.duration_s, 6)
            xml.append(suite)  # add_testsuite() compares with every suite already there: quadratic
    xml.update_statistics()
    return xml


def write_junit(out: Path, results: list[CandidateResult]) -> Path:
    path = out / "junit.xml"
    body = junit_xml(results).tostring()
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if not text.startswith("<?xml"):
        text = '<?xml version="1.0" encoding="utf-8"?>\n' + text
    atomic_write_text(path, text)
    return path
