"""Interface strings of the reports, in English and Chinese, and exercise titles in both."""

from __future__ import annotations

from typing import Callable

LANGS = ("en", "zh")

STRINGS: dict[str, dict[str, str]] = {
    "grades": {"en": "Grades", "zh": "成绩"},
    "candidates": {"en": "candidates", "zh": "名考生"},
    "candidate": {"en": "Candidate", "zh": "考生"},
    "all_candidates": {"en": "All candidates", "zh": "全部考生"},
    "score": {"en": "Score", "zh": "得分"},
    "total": {"en": "Total", "zh": "总分"},
    "percent": {"en": "%", "zh": "%"},
    "status": {"en": "Status", "zh": "状态"},
    "sandbox": {"en": "Sandbox", "zh": "沙箱"},
    "duration": {"en": "Time (s)", "zh": "用时（秒）"},
    "graded_at": {"en": "Graded", "zh": "评分时间"},
    "mean": {"en": "Mean", "zh": "平均"},
    "median": {"en": "Median", "zh": "中位数"},
    "filter": {"en": "Filter candidates", "zh": "筛选考生"},
    "any_status": {"en": "any status", "zh": "全部状态"},
    "shown": {"en": "shown", "zh": "显示"},
    "sort_hint": {"en": "Click a column header to sort.", "zh": "点击列标题排序。"},
    "histogram": {"en": "Score distribution", "zh": "分数分布"},
    "histogram_x": {"en": "total score, % of maximum", "zh": "总分（占满分的百分比）"},
    "histogram_y": {"en": "candidates", "zh": "考生人数"},
    "heatmap": {"en": "Candidates × exercises", "zh": "考生 × 练习"},
    "heatmap_legend": {"en": "share of the exercise's points; grey: not submitted",
                       "zh": "该练习得分比例；灰色：未提交"},
    "exercises": {"en": "Exercises", "zh": "练习"},
    "exercise": {"en": "Exercise", "zh": "练习"},
    "title": {"en": "Title", "zh": "标题"},
    "submitted": {"en": "Submitted", "zh": "提交人数"},
    "mean_score": {"en": "Mean score", "zh": "平均得分"},
    "full_marks": {"en": "Full marks", "zh": "满分比例"},
    "tests_passed": {"en": "Tests passed", "zh": "测试通过率"},
    "most_failed": {"en": "Most failed tests", "zh": "失败最多的测试"},
    "test": {"en": "Test", "zh": "测试"},
    "failed_runs": {"en": "Failed", "zh": "失败次数"},
    "main_outcome": {"en": "Usual outcome", "zh": "常见结果"},
    "slowest": {"en": "Slowest exercises", "zh": "最慢的练习"},
    "mean_time": {"en": "Mean time (s)", "zh": "平均用时（秒）"},
    "max_time": {"en": "Max time (s)", "zh": "最长用时（秒）"},
    "peak_memory": {"en": "Peak memory (MB)", "zh": "内存峰值（MB）"},
    "outcome": {"en": "Outcome", "zh": "结果"},
    "points": {"en": "Points", "zh": "分数"},
    "why": {"en": "What it checks / why points were lost", "zh": "检查内容 / 失分原因"},
    "visibility": {"en": "Visibility", "zh": "可见性"},
    "hidden": {"en": "hidden", "zh": "隐藏"},
    "public": {"en": "public", "zh": "公开"},
    "log": {"en": "Output of the candidate's code", "zh": "考生代码的输出"},
    "source": {"en": "Submitted source", "zh": "提交的源代码"},
    "no_source": {"en": "source not kept with the results", "zh": "结果中未保存源代码"},
    "environment": {"en": "Environment", "zh": "环境"},
    "unconfined_one": {"en": "Graded without confinement (local-unconfined): not a security boundary.",
                       "zh": "在无隔离环境（local-unconfined）中评分：不构成安全边界。"},
    "unconfined_some": {"en": "Some candidates were graded in the local-unconfined sandbox, which is not a security boundary.",
                        "zh": "部分考生在 local-unconfined 沙箱中评分，该沙箱不构成安全边界。"},
    "cut": {"en": "characters cut", "zh": "个字符已截断"},
    "none": {"en": "none", "zh": "无"},
    "summary": {"en": "Summary", "zh": "概要"},
    "more": {"en": "more; see grades.csv", "zh": "名未列出，见 grades.csv"},
    "failed_tests": {"en": "Failed tests", "zh": "未通过的测试"},
    "seconds": {"en": "s", "zh": "秒"},
}

STATUS_ZH = {
    "graded": "已评分", "not_submitted": "未提交", "import_error": "导入错误", "invalid_submission": "无效提交",
    "ungraded": "未能评分", "passed": "通过", "failed": "答案错误", "error": "运行出错", "timeout": "超时",
    "memory_limit": "超出内存", "crashed": "崩溃", "missing": "缺少定义", "forbidden_api": "使用了禁用的 API",
}


class Labels:
    """``labels.key`` or ``labels["key"]``: interface strings in one language."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r} (choose from {', '.join(LANGS)})")
        self.lang = lang

    def __getitem__(self, key: str) -> str:
        return STRINGS[key][self.lang]

    def __getattr__(self, key: str) -> str:
        if key.startswith("_") or key not in STRINGS:
            raise AttributeError(key)
        return STRINGS[key][self.lang]

    def word(self, value: str) -> str:
        """An outcome or status word, translated for display (the raw value stays in data attributes)."""
        return STATUS_ZH.get(value, value) if self.lang == "zh" else value.replace("_", " ")


def exercise_titles(catalogue=None) -> dict[str, tuple[str, str]]:
    """``{id: (title, title_zh)}`` from a catalogue; an unreadable exercise is simply left out."""
    if catalogue is None:
        try:
            from grader.catalogue import Catalogue, default_root

            catalogue = Catalogue(default_root())
        except Exception:  # no catalogue here: titles fall back to ids
            return {}
    titles: dict[str, tuple[str, str]] = {}
    try:
        ids = catalogue.ids()
    except Exception:
        return {}
    for i in ids:
        try:
            meta = catalogue.get(i).meta
        except Exception:
            continue
        titles[i] = (meta.title, meta.title_zh)
    return titles


def title_func(titles: dict[str, tuple[str, str]], lang: str) -> Callable[[str], str]:
    idx = 1 if lang == "zh" else 0

    def title(exercise_id: str) -> str:
        pair = titles.get(exercise_id)
        return pair[idx] if pair else exercise_id

    return title
