"""Exports of stored results for other tools: JUnit XML, Gradescope JSON, a markdown summary.

``grades.csv`` is written by :func:`grader.results.write_grades_csv` (its single writer); the
HTML reports are :mod:`grader.report`, which calls everything here in one run.
"""

from grader.exports.gradescope import GradescopeResults, to_gradescope, write_gradescope
from grader.exports.junit import junit_xml, write_junit
from grader.exports.summary import summary_markdown, write_summary

__all__ = ["GradescopeResults", "junit_xml", "summary_markdown", "to_gradescope", "write_gradescope", "write_junit",
           "write_summary"]
