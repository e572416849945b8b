"""Similarity of the candidates' submitted source across a batch (``grader similarity OUT``).

For each exercise, every pair of candidates is compared on the modules kept at
``OUT/<candidate>/source/<exercise>/``. The fingerprinting is copydetect's (the MOSS winnowing
approach): Pygments tokenises the code, identifiers become ``V``/``F``/``O``, string literals and
docstrings ``S``, comments and whitespace are dropped, and every 25-character k-gram of that
normalised text is a fingerprint. So renamed identifiers, reordered functions and changed
comments, docstrings or layout do not hide a copy. On top of copydetect:

- code that comes from the exercise's stub (signatures, docstrings, helper imports,
  ``raise NotImplementedError``) is boilerplate: its fingerprints are removed from every
  submission, so stub-only submissions have nothing left to compare;
- fingerprints found in a large share of an exercise's submissions (as MOSS's ``-m``) are
  boilerplate too: they are the idioms anybody writes, not evidence;
- pairs are scored through an inverted index: a sparse submissions x fingerprints incidence
  matrix whose product with its transpose counts the fingerprints each pair shares, so only
  pairs that share fingerprints cost anything and every pair's score is exact. Submissions with
  the same fingerprints are grouped first (a hundred copies of one file are indexed once).
  copydetect's own pairwise ``compare_files`` (0.5 ms a pair: 11 minutes for the 1.3 million
  pairs of 300 candidates x 30 exercises) only maps the matches of the listed pairs back to
  regions of the source, for the side-by-side pages.

The score of a pair is the mean of its two sides' shares of fingerprints found in the other
(MOSS's measure), between 0 and 1. A pair is flagged when it scores at least the threshold and
shares at least MIN_SHARED fingerprints (a few lines of code, so two tiny files cannot be).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from bisect import bisect_right
from collections import defaultdict
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import quote

from pydantic import BaseModel, Field


DEFAULT_THRESHOLD = 0.5  # copies (renamed, reordered) of the references score 0.68-1.0, alternatives 0-0.15
DEFAULT_TOP = 5
NOISE_CHARS = 25  # k: matches shorter than this many normalised characters are noise (copydetect's default)
COMMON_SHARE = 0.5  # a fingerprint in more than this share of an exercise's submissions is an idiom...
COMMON_MIN = 10  # ...once there are at least this many submissions (fewer: too few to tell)
MIN_SHARED = 50  # shared fingerprints before a pair can be flagged (about 75 normalised characters)
PARALLEL_MIN = 400  # submissions in the batch before exercises are shared among processes
PAGES_PER_EXERCISE = 50  # side-by-side pages written per exercise (flagged first, then the top pairs)
SOURCE_CAP = 256 << 10  # bytes of one module read (the grader keeps no larger file)
PAIRS_DIR = "similarity"  # OUT/similarity/<exercise>/<a>__<b>.html
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

LABELS: dict[str, dict[str, str]] = {
    "similarity": {"en": "Similarity", "zh": "代码相似度"},
    "intro": {"en": "Pairs of candidates whose code for an exercise is most alike once the stub, comments, docstrings, "
                    "layout and identifier names are set aside (winnowing fingerprints, as MOSS). Pairs scoring "
                    "{threshold} or more are flagged: a reason to look, not proof of copying.",
              "zh": "去除题目模板、注释、文档字符串、排版和标识符名称后，同一练习中代码最相似的考生配对（winnowing 指纹，"
                    "与 MOSS 相同）。得分不低于 {threshold} 的配对被标记：值得查看，但不是抄袭的证明。"},
    "flagged_total": {"en": "Flagged pairs", "zh": "标记的配对"},
    "flagged": {"en": "flagged", "zh": "已标记"},
    "flag_title": {"en": "in {n} flagged similarity pair(s)", "zh": "出现在 {n} 个被标记的相似配对中"},
    "pair": {"en": "Pair", "zh": "配对"},
    "score": {"en": "Similarity", "zh": "相似度"},
    "shares": {"en": "share of each side found in the other", "zh": "各自在对方中出现的比例"},
    "view": {"en": "side by side", "zh": "并排对比"},
    "submissions": {"en": "submissions compared", "zh": "参与比较的提交"},
    "stub_only": {"en": "stub only or empty", "zh": "仅模板或为空"},
    "no_pairs": {"en": "fewer than two submissions with code of their own", "zh": "有自己代码的提交少于两份"},
    "stub_unknown": {"en": "stub not found in the catalogue: its code is not discounted",
                     "zh": "目录中找不到题目模板：模板代码未被排除"},
    "more_flagged": {"en": "{n} more flagged pair(s) without a page: run `grader similarity OUT --json`",
                     "zh": "另有 {n} 个被标记的配对没有对比页面：运行 `grader similarity OUT --json`"},
    "legend": {"en": "Highlighted: code whose normalised form (names, comments, docstrings and layout aside) appears "
                     "in the other submission; code from the stub is not highlighted.",
               "zh": "高亮：规范化后（忽略名称、注释、文档字符串和排版）在另一份提交中也出现的代码；来自题目模板的代码不高亮。"},
    "back": {"en": "Back to the batch report", "zh": "返回批次报告"},
    "lines": {"en": "matching lines", "zh": "匹配的行"},
}


class SimLabels:
    """``slab.key``: the similarity strings in one language (kept here, beside their only user)."""

    def __init__(self, lang: str) -> None:
        self.lang = "zh" if lang == "zh" else "en"

    def __getattr__(self, key: str) -> str:
        if key.startswith("_") or key not in LABELS:
            raise AttributeError(key)
        return LABELS[key][self.lang]


# ---- models -------------------------------------------------------------------------------------

class Region(BaseModel):
    """A matching region of one side: character offsets into its source and 1-based lines."""

    start: int
    end: int
    first_line: int
    last_line: int


class PairResult(BaseModel):
    """One pair of candidates on one exercise (``candidate_a`` < ``candidate_b``)."""

    exercise: str
    candidate_a: str
    candidate_b: str
    score: float = Field(ge=0, le=1, description="mean of score_a and score_b")
    score_a: float = Field(ge=0, le=1, description="share of a's fingerprints found in b")
    score_b: float = Field(ge=0, le=1, description="share of b's fingerprints found in a")
    shared: int = Field(ge=0, description="fingerprints (normalised 25-character k-grams) both hold")
    flagged: bool
    regions_a: list[Region] | None = None
    regions_b: list[Region] | None = None
    page: str | None = Field(None, description="side-by-side page, relative to OUT")

    def summary(self) -> dict[str, Any]:
        """The JSON shape of ``grader similarity --json``."""
        return {"exercise": self.exercise, "candidate_a": self.candidate_a, "candidate_b": self.candidate_b,
                "score": round(self.score, 4), "flagged": self.flagged}


class ExerciseSimilarity(BaseModel):
    """The pairs listed for one exercise: every flagged pair, then the top ones."""

    exercise: str
    submissions: int = Field(description="submissions with code of their own")
    stub_only: int = Field(0, description="submissions with no code beyond the stub")
    stub_known: bool = True
    sharing: int = Field(0, description="pairs of submissions sharing at least one fingerprint")
    flagged: int = 0
    pairs: list[PairResult] = Field(default_factory=list)
    sources: dict[str, str] = Field(default_factory=dict, description="sources of the candidates with a page")


class SimilarityReport(BaseModel):
    """Similarity of a whole batch."""

    threshold: float
    top: int
    exercises: list[ExerciseSimilarity] = Field(default_factory=list)

    def pairs(self) -> list[PairResult]:
        """Every listed pair, by exercise, highest score first."""
        return [p for e in self.exercises for p in e.pairs]

    @property
    def flagged_total(self) -> int:
        return sum(e.flagged for e in self.exercises)

    def flagged_candidates(self) -> dict[str, int]:
        """Candidate id -> number of flagged pairs it is in (over the listed pairs)."""
        counts: dict[str, int] = defaultdict(int)
        for p in self.pairs():
            if p.flagged:
                counts[p.candidate_a] += 1
                counts[p.candidate_b] += 1
        return dict(counts)


# ---- sources ------------------------------------------------------------------------------------

def join_modules(files: dict[str, str]) -> str:
    """One document per submission: modules in name order, each after a header comment when several."""
    if len(files) == 1:
        return next(iter(files.values()))
    return "".join(f"# ==== {name} ====\n{code}{'' if code.endswith(chr(10)) else chr(10)}"
                   for name, code in sorted(files.items()))


def read_modules(folder: Path) -> dict[str, str]:
    """The ``*.py`` files directly in ``folder`` (regular files, capped), by name."""
    files: dict[str, str] = {}
    if not folder.is_dir() or folder.is_symlink():
        return files
    for p in sorted(folder.glob("*.py")):
        if p.is_symlink() or not p.is_file():
            continue
        with p.open("rb") as fh:
            files[p.name] = fh.read(SOURCE_CAP).decode("utf-8", errors="replace")
    return files


def collect_sources(out: Path, results: Iterable[Any]) -> dict[str, dict[str, str]]:
    """``{exercise: {candidate: source}}`` from ``OUT/<candidate>/source/<exercise>/``.

    Only exercises the candidate submitted (per its results) and ids that are plain names count.
    """
    by_exercise: dict[str, dict[str, str]] = defaultdict(dict)
    for r in results:
        if not _SAFE_ID.match(r.candidate):
            continue
        for e in r.exercises:
            if e.status == "not_submitted" or not _SAFE_ID.match(e.id):
                continue
            files = read_modules(out / r.candidate / "source" / e.id)
            if files:
                by_exercise[e.id][r.candidate] = join_modules(files)
    return dict(by_exercise)


def stub_source(catalogue: Any, exercise_id: str) -> str | None:
    """The exercise's stub modules as one document, or None when the catalogue does not know it."""
    if catalogue is None:
        return None
    try:
        ex = catalogue.get(exercise_id)
    except Exception:  # unknown or malformed exercise: compare without discounting a stub
        return None
    files = {name: (ex.stub_dir / name).read_text(encoding="utf-8", errors="replace")
             for name in ex.meta.modules if (ex.stub_dir / name).is_file()}
    return join_modules(files) if files else None


# ---- fingerprints -------------------------------------------------------------------------------

def _fingerprint(code: str, name: str = "submission.py") -> Any:
    """copydetect's fingerprint of ``code``: every k-gram of the normalised text (window 1).

    Window 1 keeps every k-gram, so which fingerprints are kept does not depend on the values of
    Python's per-process string hash that copydetect uses: scores are the same on every run.
    """
    from copydetect import CodeFingerprint

    fp = CodeFingerprint(name, NOISE_CHARS, 1, fp=io.StringIO(code), language="python")
    fp.hashes = set(int(h) for h in fp.hashes)  # Python ints: set operations several times faster than on numpy's
    return fp


def _drop(fp: Any, hashes: set[int]) -> None:
    """Remove boilerplate fingerprints from ``fp`` (its coverage is recounted by :func:`_compare`).

    Done here rather than with CodeFingerprint's ``boilerplate`` argument: with window 1 a
    submission's hash list has repeats, which that path (np.intersect1d with assume_unique)
    mistakes for boilerplate, dropping code a candidate wrote twice.
    """
    gone = fp.hashes & hashes
    if not gone:
        return
    fp.hashes = fp.hashes - gone
    for h in gone:
        fp.hash_idx.pop(h, None)
    fp.stale_coverage = True


def _compare(fa: Any, fb: Any) -> tuple[Any, Any]:
    """copydetect's matching slices (character offsets into each raw source) of two fingerprints."""
    from copydetect import compare_files
    from copydetect.utils import get_token_coverage

    for fp in (fa, fb):
        if getattr(fp, "stale_coverage", False):  # only pages need it: recounted for their few files
            fp.token_coverage = get_token_coverage(fp.hash_idx, fp.k, len(fp.filtered_code)) or 1
            fp.stale_coverage = False
    _, _, slices = compare_files(fa, fb)
    return slices


def _regions(code: str, slices: Any) -> list[Region]:
    """copydetect's slices (2 x N character offsets into ``code``) as regions with line numbers."""
    starts = [0] + [i + 1 for i, c in enumerate(code) if c == "\n"]
    out: list[Region] = []
    word = str.isidentifier
    for s, e in zip(slices[0].tolist(), slices[1].tolist()):
        s, e = max(0, int(s)), min(len(code), int(e))
        # copydetect maps normalised offsets back approximately: widen to whole words (no "t[orch]").
        while 0 < s < len(code) and word(code[s - 1]) and (word(code[s]) or code[s].isdigit()):
            s -= 1
        while 0 < e < len(code) and (word(code[e]) or code[e].isdigit()) and (word(code[e - 1]) or code[e - 1].isdigit()):
            e += 1
        if e > s:
            out.append(Region(start=s, end=e, first_line=bisect_right(starts, s),
                              last_line=bisect_right(starts, max(s, e - 1))))
    return out


def _shared_counts(hash_sets: list[set[int]]) -> Any:
    """Shared fingerprints of every pair of documents, through an inverted index.

    Fingerprints found in one document only are dropped first (most of them, for independent
    work); the rest form a sparse documents x fingerprints incidence matrix (the inverted index)
    whose product with its transpose counts, for each pair, the fingerprints both hold.
    """
    import numpy as np
    from scipy.sparse import csr_matrix

    n = len(hash_sets)
    if n < 2:
        return np.zeros((n, n), dtype=np.float64)
    sizes = [len(s) for s in hash_sets]
    flat = np.fromiter((h for s in hash_sets for h in s), dtype=np.int64, count=sum(sizes))
    docs = np.repeat(np.arange(n), sizes)
    _, inverse, df = np.unique(flat, return_inverse=True, return_counts=True)
    keep = df[inverse] >= 2
    cols = np.unique(inverse[keep], return_inverse=True)[1]
    docs = docs[keep]
    n_cols = int(cols.max()) + 1 if cols.size else 1
    m = csr_matrix((np.ones(len(cols), dtype=np.float64), (docs, cols)), shape=(n, n_cols))
    return (m @ m.T).toarray()


def exercise_similarity(exercise: str, sources: dict[str, str], stub: str | None,
                        threshold: float = DEFAULT_THRESHOLD, top: int = DEFAULT_TOP,
                        pages: int = PAGES_PER_EXERCISE) -> ExerciseSimilarity:
    """Compare every pair of ``sources`` (candidate -> code) of one exercise.

    Lists every flagged pair and the ``top`` best others, highest score first; the first
    ``pages`` of them get matching regions (for side-by-side pages).
    """
    import numpy as np

    boiler: set[int] = _fingerprint(stub, "stub.py").hashes if stub else set()
    by_text: dict[str, Any] = {}
    prints: dict[str, Any] = {}
    stub_only = 0
    for cand in sorted(sources):
        code = sources[cand]
        if code not in by_text:  # identical files (untouched stubs, shared copies) are fingerprinted once
            fp = _fingerprint(code, f"{cand}.py")
            _drop(fp, boiler)
            by_text[code] = fp
        if by_text[code].hashes:
            prints[cand] = by_text[code]
        else:
            stub_only += 1
    cands = sorted(prints)
    n = len(cands)
    if n >= COMMON_MIN:
        df: dict[int, int] = defaultdict(int)
        for c in cands:
            for h in prints[c].hashes:
                df[h] += 1
        cap = max(COMMON_MIN, COMMON_SHARE * n)
        common = {h for h, k in df.items() if k > cap}
        if common:
            for fp in {id(f): f for f in prints.values()}.values():
                _drop(fp, common)
            stub_only += sum(1 for c in cands if not prints[c].hashes)
            cands = [c for c in cands if prints[c].hashes]
            n = len(cands)

    # Submissions with the same fingerprints are one group: indexed once, pairs inside score 1.
    groups: dict[frozenset[int], list[str]] = defaultdict(list)
    for c in cands:
        groups[frozenset(prints[c].hashes)].append(c)
    members = list(groups.values())
    sizes = np.array([len(prints[g[0]].hashes) for g in members], dtype=np.float64)
    shared = _shared_counts([prints[g[0]].hashes for g in members])
    np.fill_diagonal(shared, sizes)  # a group with itself: everything shared
    share = shared / sizes[:, None]  # share[i, j]: the part of i's fingerprints that j holds too
    score = (share + share.T) / 2
    hits = (score >= threshold) & (shared >= MIN_SHARED)
    sizes_g = np.array([len(g) for g in members])
    # Member pairs per group pair: |Gi| * |Gj| across groups, |Gi| choose 2 inside one.
    counts = np.outer(sizes_g, sizes_g) - np.diag(sizes_g * (sizes_g + 1) // 2)
    iu = np.triu_indices(len(members))
    n_flagged = int((counts[iu] * hits[iu]).sum())
    live = np.nonzero((counts[iu] > 0) & (shared[iu] > 0))[0]
    order = live[np.lexsort((live, -score[iu][live]))]  # highest score first, ties in index order

    def pair(i: int, j: int, a: str, b: str) -> PairResult:
        if a > b:
            a, b, i, j = b, a, j, i
        return PairResult(exercise=exercise, candidate_a=a, candidate_b=b, score=float(score[i, j]),
                          score_a=float(share[i, j]), score_b=float(share[j, i]), shared=int(shared[i, j]),
                          flagged=bool(hits[i, j]))

    flagged: list[PairResult] = []
    others: list[PairResult] = []
    for k in order.tolist():
        i, j = int(iu[0][k]), int(iu[1][k])
        if not hits[i, j] and len(others) >= top:
            continue
        found = [pair(i, j, a, b) for x, a in enumerate(members[i]) for b in (members[j][x + 1:] if i == j else members[j])]
        if hits[i, j]:
            flagged.extend(found)
        else:
            others.extend(found[: top - len(others)])
    flagged.sort(key=lambda p: (-p.score, p.candidate_a, p.candidate_b))
    others.sort(key=lambda p: (-p.score, p.candidate_a, p.candidate_b))
    listed = flagged + others

    kept: dict[str, str] = {}
    for p in listed[:pages]:
        # Regions come from the two actual files (members of a group may differ in comments).
        fa, fb = prints[p.candidate_a], prints[p.candidate_b]
        slices_a, slices_b = _compare(fa, fb)
        if len(slices_a):
            p.regions_a, p.regions_b = _regions(fa.raw_code, slices_a), _regions(fb.raw_code, slices_b)
        else:
            p.regions_a, p.regions_b = [], []
        p.page = pair_page(exercise, p.candidate_a, p.candidate_b)
        kept[p.candidate_a], kept[p.candidate_b] = fa.raw_code, fb.raw_code
    return ExerciseSimilarity(exercise=exercise, submissions=n, stub_only=stub_only, stub_known=stub is not None,
                              sharing=int(counts[iu][live].sum()), flagged=n_flagged, pairs=listed, sources=kept)


def _exercise_task(args: tuple) -> ExerciseSimilarity:
    return exercise_similarity(*args)


def batch_similarity(out: Path, catalogue: Any = None, threshold: float = DEFAULT_THRESHOLD, top: int = DEFAULT_TOP,
                     jobs: int | None = None, results: list[Any] | None = None,
                     on_exercise: Callable[[ExerciseSimilarity], None] | None = None) -> SimilarityReport:
    """Similarity of every exercise of the batch in ``out``.

    ``catalogue`` gives the stubs (default: the project's, when there is one); ``results`` saves
    reading ``OUT/*/results.json`` again; ``jobs`` processes share the exercises (default: the
    CPUs, for batches large enough to pay for starting them).
    """
    if not 0 <= threshold <= 1:
        raise ValueError(f"similarity threshold must lie in [0, 1], got {threshold}")
    if results is None:
        from grader.results import load_results

        results = load_results(out, required=True)
    if catalogue is None:
        try:
            from grader.catalogue import Catalogue, default_root

            catalogue = Catalogue(default_root())
        except Exception:  # results can be checked anywhere; stubs are then not discounted
            catalogue = None
    sources = collect_sources(out, results)
    tasks = [(ex, sources[ex], stub_source(catalogue, ex), threshold, top) for ex in sorted(sources)]
    jobs = jobs or min(os.cpu_count() or 1, len(tasks))
    if sum(len(t[1]) for t in tasks) < PARALLEL_MIN:
        jobs = 1  # starting worker processes (and importing copydetect in each) costs more than it saves
    done: list[ExerciseSimilarity] = []
    if jobs > 1 and len(tasks) > 1:
        # fork when this process runs one thread; with more (a caller's pools), fork would copy
        # them mid-state, so spawn, which re-imports the caller's main module: a script without
        # a __main__ guard breaks the pool, and the exercises left are then compared here.
        method = "fork" if threading.active_count() == 1 else "spawn"
        try:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context(method)) as pool:
                for r in pool.map(_exercise_task, tasks):
                    done.append(r)
                    if on_exercise:
                        on_exercise(r)
        except BrokenProcessPool:
            pass
    for t in tasks[len(done):]:
        done.append(_exercise_task(t))
        if on_exercise:
            on_exercise(done[-1])
    return SimilarityReport(threshold=threshold, top=top, exercises=done)


# ---- pages --------------------------------------------------------------------------------------

def _component(name: str) -> str:
    """A file-name-safe, bounded form of an id (ids are folder names already; long ones are cut)."""
    if _SAFE_ID.match(name) and len(name) <= 80:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60].lstrip(".") + "-" + digest


def pair_page(exercise: str, a: str, b: str) -> str:
    """Path of a pair's side-by-side page relative to OUT (on disk)."""
    return f"{PAIRS_DIR}/{_component(exercise)}/{_component(a)}__{_component(b)}.html"


def href(path: str) -> str:
    """A path relative to OUT as a relative URL."""
    return "/".join(quote(part, safe="") for part in path.split("/"))


def _segments(code: str, regions: Sequence[Region]) -> list[tuple[int, list[tuple[str, bool]], bool]]:
    """Lines of ``code`` as (number, [(text, matched)], any matched), for the template to escape."""
    marks = sorted((r.start, r.end) for r in regions)
    lines: list[tuple[int, list[tuple[str, bool]], bool]] = []
    pos, k = 0, 0
    for no, line in enumerate(code.split("\n"), start=1):
        end = pos + len(line)
        segs: list[tuple[str, bool]] = []
        cur = pos
        while k < len(marks) and marks[k][1] <= pos:
            k += 1
        j = k
        while j < len(marks) and marks[j][0] < end:
            s, e = max(marks[j][0], pos), min(marks[j][1], end)
            if s > cur:
                segs.append((code[cur:s], False))
            if e > max(s, cur):
                text = code[max(s, cur):e]
                core = text.strip()  # whitespace never matches anything: leave indentation unmarked
                if core:
                    lead = len(text) - len(text.lstrip())
                    segs.extend(x for x in ((text[:lead], False), (core, True), (text[lead + len(core):], False)) if x[0])
                else:
                    segs.append((text, False))
            cur = max(cur, e)
            if marks[j][1] > end:
                break
            j += 1
        if cur < end:
            segs.append((code[cur:end], False))
        lines.append((no, segs, any(m for _, m in segs)))
        pos = end + 1
    return lines


def render_pair(pair: PairResult, source_a: str, source_b: str, lang: str = "en", title: str = "") -> str:
    """The side-by-side page of one pair (matching regions highlighted on both sides)."""
    from grader.report import _ENV, _common, _csp, candidate_href

    depth = "../" * pair.page.count("/") if pair.page else ""
    ctx = _common(lang, None)
    return _ENV.get_template("similarity_pair.html.j2").render(
        p=pair, slab=SimLabels(lang), csp=_csp(None), ex_title=title, back=depth + "index.html",
        href_a=depth + candidate_href(pair.candidate_a), href_b=depth + candidate_href(pair.candidate_b),
        lines_a=_segments(source_a, pair.regions_a or []), lines_b=_segments(source_b, pair.regions_b or []),
        **{k: v for k, v in ctx.items() if k != "title"})


def write_pages(out: Path, report: SimilarityReport, lang: str = "en",
                title: Callable[[str], str] | None = None) -> int:
    """Write ``OUT/similarity/<exercise>/<a>__<b>.html`` for every pair with regions; returns the count.

    Pages of an earlier run under ``OUT/similarity/`` are removed first (only ``*.html`` files).
    """
    from grader.results import atomic_write_text

    root = out / PAIRS_DIR
    if root.is_dir() and not root.is_symlink() and not (root / "results.json").exists():
        for old in root.glob("*/*.html"):
            if old.is_file() and not old.is_symlink():
                old.unlink()
    n = 0
    for e in report.exercises:
        for p in e.pairs:
            if p.page is None:
                continue
            text = render_pair(p, e.sources.get(p.candidate_a, ""), e.sources.get(p.candidate_b, ""), lang,
                               title(e.exercise) if title else e.exercise)
            atomic_write_text(out / p.page, text)
            n += 1
    return n


def index_context(report: SimilarityReport, lang: str = "en") -> dict[str, Any]:
    """What the index's similarity section needs: the report, its labels and the flag counts."""
    return {"sim": report, "slab": SimLabels(lang), "sim_flags": report.flagged_candidates(), "sim_href": href}


def pairs_table(report: SimilarityReport) -> str:
    """A readable table of the listed pairs, one block per exercise (the CLI's default output)."""
    lines: list[str] = []
    for e in report.exercises:
        extra = "" if e.stub_known else "; stub unknown, not discounted"
        lines.append(f"{e.exercise}: {e.submissions} submission(s) compared, {e.stub_only} stub-only, "
                     f"{e.flagged} flagged{extra}")
        if not e.pairs:
            lines.append("  (no similar pairs)")
        for p in e.pairs:
            mark = "FLAG" if p.flagged else "    "
            lines.append(f"  {mark} {p.score:5.2f}  {p.candidate_a}  {p.candidate_b}  "
                         f"({p.score_a:.2f} / {p.score_b:.2f})")
    lines.append(f"{report.flagged_total} flagged pair(s) at threshold {report.threshold:g}")
    return "\n".join(lines)
