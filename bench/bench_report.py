"""Benchmark: render the reports of a synthetic batch (default 200 candidates x 30 exercises).

Not a test. Run from the repository root:

    python bench/bench_report.py                 # results only, as the grader stores them
    python bench/bench_report.py --with-source   # plus a source file per exercise to highlight

Prints ``render_s: N`` (wall-clock seconds of write_reports: every HTML page, grades.csv,
junit.xml, the Gradescope files and the summary) and ``cpu_s: N`` (this process's CPU time,
steadier on a shared machine); with ``--parts``, then the time of each part.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.exports.synthetic import synthetic_batch, write_batch  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candidates", type=int, default=200)
    ap.add_argument("--exercises", type=int, default=30)
    ap.add_argument("--lang", choices=["en", "zh"], default="en")
    ap.add_argument("--with-source", action="store_true", help="also keep a source file per exercise")
    ap.add_argument("--parts", action="store_true", help="then time each part again, without writing")
    ap.add_argument("--out", type=Path, default=None, help="keep the output here (default: a temporary folder)")
    args = ap.parse_args()

    from grader import report
    from grader.exports import gradescope, junit, summary
    from grader.results import load_results

    results = synthetic_batch(args.candidates, args.exercises)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        out = args.out or Path(tmp)
        write_batch(out, results, with_source=args.with_source)
        titles = {}  # the catalogue is read once per run; keep it out of the figure
        # Warm up: import Pygments and compile the templates, as any first render does.
        report.render_index(results[:1], args.lang, titles)
        report.render_candidate(results[0], args.lang, titles, None)

        t0, c0 = time.perf_counter(), time.process_time()
        index = report.write_reports(out, lang=args.lang, titles=titles, summary_md=out / "summary.md")
        render_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        print(f"batch: {args.candidates} candidates x {args.exercises} exercises, "
              f"{sum(len(e.tests) for r in results for e in r.exercises)} tests, sources: {args.with_source}")
        print(f"render_s: {render_s:.2f}")
        print(f"cpu_s: {cpu_s:.2f}", flush=True)
        if not args.parts:
            return

        loaded = load_results(out)
        parts = {}
        t = time.perf_counter(); report.render_index(loaded, args.lang, titles); parts["index.html"] = time.perf_counter() - t
        t = time.perf_counter()
        for r in loaded:
            report.render_candidate(r, args.lang, titles, out)
        parts["candidate pages"] = time.perf_counter() - t
        t = time.perf_counter(); junit.junit_xml(loaded).tostring(); parts["junit.xml"] = time.perf_counter() - t
        t = time.perf_counter()
        for r in loaded:
            gradescope.to_gradescope(r).model_dump_json()
        parts["gradescope"] = time.perf_counter() - t
        t = time.perf_counter(); summary.summary_markdown(loaded); parts["summary"] = time.perf_counter() - t
        size = sum(p.stat().st_size for p in out.rglob("*.html"))

    print(f"html: {size / 1e6:.1f} MB; index: {index.name}")
    for k, v in parts.items():
        print(f"  {k}: {v:.2f} s (rendered again, without writing)")


if __name__ == "__main__":
    main()
