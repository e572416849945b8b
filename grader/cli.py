"""The ``grader`` command: a thin Click layer over the library.

Exit codes: 0 success; 1 a graded run below ``--fail-under``, a failed gate or a grading error;
2 usage errors. Domain errors print one line (a traceback only with ``--debug``).
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from grader.catalogue import Catalogue, default_root
from grader.errors import GraderError, os_error_line
from grader.similarity import DEFAULT_THRESHOLD, DEFAULT_TOP

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class GraderGroup(click.Group):
    """Turns domain errors into one clear line; --debug shows tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GraderError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted; results already written are kept (use --resume to continue)", err=True)
            sys.exit(130)
        except OSError as exc:
            # The library names its own file errors; this is the net for one it did not expect
            # (a folder that vanished, a full disk): still one line, never a traceback.
            if ctx.obj and ctx.obj.get("debug"):
                raise
            raise click.ClickException(os_error_line(exc)) from None


def _catalogue(ctx: click.Context) -> Catalogue:
    return Catalogue(ctx.obj["root"])


def _exercise_list(value: tuple[str, ...]) -> list[str] | None:
    ids = [i.strip() for v in value for i in v.split(",") if i.strip()]
    return ids or None


@click.group(cls=GraderGroup, context_settings=CONTEXT)
@click.option("--catalogue", "root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder holding exercises/ and solutions/ (default: $GRADER_HOME or this checkout).")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="grader")
@click.pass_context
def cli(ctx: click.Context, root: Path | None, debug: bool) -> None:
    """Grade machine-learning coding exercises in sandboxes, against reference solutions."""
    ctx.obj = {"root": (root or default_root()).resolve(), "debug": debug}


@cli.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """List the exercises of the catalogue."""
    for ex in _catalogue(ctx).all():
        m = ex.meta
        click.echo(f"{m.id:<28} {m.difficulty:<7} {m.points:>5g} pts  {m.title} / {m.title_zh}")


@cli.command()
@click.argument("exercise_id")
@click.pass_context
def show(ctx: click.Context, exercise_id: str) -> None:
    """Show one exercise: metadata and its README."""
    ex = _catalogue(ctx).get(exercise_id)
    m = ex.meta
    lim = m.limits
    click.echo(f"{m.id}: {m.title} ({m.title_zh})")
    click.echo(f"seed question {m.source_question}; topic {m.topic}; {m.difficulty}; {m.points:g} points")
    click.echo(f"modules: {', '.join(m.modules)}")
    click.echo(f"limits: {lim.call_timeout_s:g} s per call, {lim.total_time_s:g} s in all, {lim.memory_mb} MB, "
               f"{lim.cpus:g} CPU, GPU {lim.gpu}")
    if m.forbidden.apis or m.forbidden.attributes:
        click.echo(f"forbidden ({m.forbidden.points:g} points): {', '.join(m.forbidden.apis + m.forbidden.attributes)}")
    click.echo("")
    click.echo((ex.root / "README.md").read_text(encoding="utf-8"))


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--exercises", "-e", multiple=True, help="Exercise ids (comma-separated or repeated); default all.")
@click.option("--force", is_flag=True, help="Overwrite exercise folders that already exist.")
@click.pass_context
def init(ctx: click.Context, directory: Path, exercises: tuple[str, ...], force: bool) -> None:
    """Write a candidate workspace: stubs, READMEs, helpers and public tests."""
    from grader.workspace import init_workspace

    done = init_workspace(_catalogue(ctx), directory, _exercise_list(exercises), force)
    click.echo(f"wrote {len(done)} exercises to {directory}; run `grader check {directory}` to self-check")


def _sandbox_option(f: Callable) -> Callable:
    return click.option("--sandbox", type=click.Choice(["auto", "docker", "local"]), default="auto", show_default=True,
                        help="Where candidate code runs; auto = docker when an engine and the image are ready, else local.")(f)


def _store_meta(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta[f"grader.{param.name}"] = value
    return value


def _similarity_options(f: Callable) -> Callable:
    """--similarity-threshold and --no-similarity for the commands that render the batch report.

    Kept in ctx.meta (not parameters of the command) so that the commands' signatures stay as they are.
    """
    f = click.option("--no-similarity", is_flag=True, expose_value=False, callback=_store_meta,
                     help="Leave the similarity section out of the batch report.")(f)
    return click.option("--similarity-threshold", type=click.FloatRange(0, 1), default=DEFAULT_THRESHOLD,
                        show_default=True, expose_value=False, callback=_store_meta,
                        help="Flag pairs of candidates whose code for an exercise is at least this similar (0..1).")(f)


def _similarity_threshold(ctx: click.Context) -> float | None:
    """The threshold for write_reports, or None for no similarity section."""
    if ctx.meta.get("grader.no_similarity"):
        return None
    return ctx.meta.get("grader.similarity_threshold")


def _print_result_tests(result: Any, verbose: bool) -> None:
    for e in result.exercises:
        click.echo(f"{e.id}: {e.score:g} / {e.max_score:g} ({e.status})")
        for t in e.tests:
            mark = "ok  " if t.outcome == "passed" else "FAIL"
            click.echo(f"  {mark} {t.id} [{t.outcome}] {t.points:g}/{t.max_points:g}")
            if t.outcome != "passed" and t.message:
                lines = t.message.splitlines()
                for line in lines[: (40 if verbose else 8)]:
                    click.echo(f"       {line}")


@cli.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--exercises", "-e", multiple=True, help="Only these exercises.")
@_sandbox_option
@click.option("-v", "--verbose", is_flag=True, help="Show full failure messages.")
@click.pass_context
def check(ctx: click.Context, directory: Path, exercises: tuple[str, ...], sandbox: str, verbose: bool) -> None:
    """Run the public tests on a workspace, through the same judge and sandbox as grading."""
    from grader.workspace import check_workspace

    result = check_workspace(_catalogue(ctx), directory, _exercise_list(exercises), sandbox)
    click.echo(f"sandbox: {result.sandbox}")
    if result.environment.get("warning"):
        click.echo(f"warning: {result.environment['warning']}", err=True)
    _print_result_tests(result, verbose)
    click.echo(f"public tests: {result.score:g} / {result.max_score:g} points")
    if result.status == "ungraded":
        raise click.ClickException(result.message)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"), show_default=True,
              help="Folder for results.json files, grades.csv and the HTML reports.")
@click.option("--exercises", "-e", multiple=True, help="Grade these exercises (default: those in each submission).")
@_sandbox_option
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=1, show_default=True, help="Submissions graded at once.")
@click.option("--resume", is_flag=True, help="Skip candidates that already have results in OUT.")
@click.option("--prestart/--no-prestart", default=True, show_default=True,
              help="Start the next submission's sandbox while the current ones run, when --jobs leaves "
                   "a core free (never with GPUs).")
@click.option("--warm/--cold", default=True, show_default=True,
              help="Local sandbox: fork each submission's worker from a warm one that has imported torch "
                   "(--cold: start every worker afresh).")
@click.option("--memory", "memory_mb", type=click.IntRange(64), default=None, help="Memory limit in MB (overrides exercises).")
@click.option("--cpus", type=click.FloatRange(0.1), default=None, help="CPUs per submission (overrides exercises).")
@click.option("--gpus", type=click.IntRange(0), default=None, help="Use the first N GPUs (one job per GPU).")
@click.option("--gpu-ids", default="", help="Comma-separated GPU ids (or UUIDs) to use, pinned per job.")
@click.option("--jobs-per-gpu", type=click.IntRange(1), default=1, show_default=True, help="Jobs sharing one GPU.")
@click.option("--fail-under", type=float, default=None, help="Exit 1 when a candidate's total is below this.")
@click.option("--no-report", is_flag=True, help="Skip the HTML reports.")
@_similarity_options
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Language of the HTML reports and the summary.")
@click.option("--summary-md", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a markdown summary here (appended to $GITHUB_STEP_SUMMARY when that is set).")
@click.option("--executor", "executor_name", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: grade on this machine (-j at a time); dask: one task per submission on a Dask cluster.")
@click.option("--scheduler", default=None, metavar="ADDRESS", envvar="GRADER_DASK_SCHEDULER",
              help="Dask scheduler address for --executor dask, e.g. tcp://host:8786 ($GRADER_DASK_SCHEDULER).")
@click.option("--worker-catalogue", type=click.Path(path_type=Path), default=None,
              help="Path of the catalogue checkout on the Dask workers (default: the same path as here).")
@click.pass_context
def grade(ctx: click.Context, paths: tuple[Path, ...], out: Path, exercises: tuple[str, ...], sandbox: str, jobs: int,
          resume: bool, prestart: bool, warm: bool, memory_mb: int | None, cpus: float | None, gpus: int | None, gpu_ids: str,
          jobs_per_gpu: int, fail_under: float | None,
          no_report: bool, lang: str, summary_md: Path | None, executor_name: str, scheduler: str | None,
          worker_catalogue: Path | None) -> None:
    """Grade submissions (folders or .zip) or batches of them into OUT."""
    from grader.grading import GradeOptions, grade_batch
    from grader.report import write_reports

    opts = GradeOptions(sandbox=sandbox, jobs=jobs, resume=resume, exercises=_exercise_list(exercises),
                        memory_mb=memory_mb, cpus=cpus, gpu_ids=[g for g in gpu_ids.split(",") if g], gpus=gpus,
                        jobs_per_gpu=jobs_per_gpu, prestart=prestart, warm=warm)
    catalogue = _catalogue(ctx)
    state: dict[str, Any] = {}
    executor = None
    if executor_name == "dask":
        if not scheduler:
            raise click.UsageError("--executor dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
        from grader.executors.dask import DaskExecutor

        executor = DaskExecutor(scheduler, worker_catalogue)
    elif worker_catalogue is not None or ctx.get_parameter_source("scheduler") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--scheduler and --worker-catalogue need --executor dask")

    def on_start(n: int) -> None:
        if executor is not None:
            # the sandbox is chosen on each worker host and recorded in every result
            click.echo(f"grading {n} submission(s) on {executor.description}", err=True)
            state["bar"] = click.progressbar(length=n, label="grading", file=sys.stderr, show_pos=True)
            state["bar"].__enter__()
            return
        from grader.sandbox.factory import resolve_kind

        kind = resolve_kind(sandbox)
        click.echo(f"grading {n} submission(s) with the {kind} sandbox, {jobs} at a time", err=True)
        if kind == "local-unconfined":
            from grader.sandbox.local import UNCONFINED_WARNING

            click.secho(f"warning: {UNCONFINED_WARNING}", fg="yellow", err=True)
        state["bar"] = click.progressbar(length=n, label="grading", file=sys.stderr, show_pos=True)
        state["bar"].__enter__()

    def on_done(result: Any) -> None:
        state["bar"].update(1)
        if not sys.stderr.isatty():
            click.echo(f"  {result.candidate}: {result.score:g} / {result.max_score:g} ({result.status})", err=True)

    def on_skip(candidate: str) -> None:
        click.echo(f"  {candidate}: already graded, skipped (--resume)", err=True)

    try:
        summary = grade_batch(paths, out, catalogue, opts, on_start, on_done, on_skip, executor=executor)
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)
    if not no_report:
        index = write_reports(out, lang=lang, summary_md=summary_md, catalogue=catalogue,
                              similarity_threshold=_similarity_threshold(ctx))
        click.echo(f"report: {index}")
    click.echo(f"results: {out}/<candidate>/results.json, {out}/grades.csv")
    for r in summary.results:
        click.echo(f"{r.candidate:<24} {r.score:>7g} / {r.max_score:g}  {r.status}")
    ungraded = [r.candidate for r in summary.results if r.status == "ungraded"]
    if ungraded:
        click.echo(f"error: {len(ungraded)} candidate(s) could not be graded (infrastructure): {', '.join(ungraded)}; "
                   "rerun with --resume", err=True)
        ctx.exit(1)
    if fail_under is not None:
        below = [r.candidate for r in summary.results if r.score < fail_under]
        if below:
            click.echo(f"below --fail-under {fail_under:g}: {', '.join(below)}", err=True)
            ctx.exit(1)


@cli.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Language of the HTML reports and the summary.")
@click.option("--summary-md", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a markdown summary here (appended to $GITHUB_STEP_SUMMARY when that is set).")
@_similarity_options
@click.pass_context
def report(ctx: click.Context, out: Path, lang: str, summary_md: Path | None) -> None:
    """Re-render the HTML reports, grades.csv, junit.xml and Gradescope files from stored results."""
    from grader.catalogue import Catalogue
    from grader.errors import CatalogueError
    from grader.report import write_reports

    try:
        catalogue = Catalogue(ctx.obj["root"])
    except CatalogueError:  # results can be rendered anywhere; titles then fall back to exercise ids
        catalogue = None
    index = write_reports(out, lang=lang, summary_md=summary_md, catalogue=catalogue,
                          similarity_threshold=_similarity_threshold(ctx))
    click.echo(f"report: {index}")


@cli.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of pairs: exercise, candidate_a, candidate_b, "
              "score, flagged.")
@click.option("--similarity-threshold", "threshold", type=click.FloatRange(0, 1), default=DEFAULT_THRESHOLD,
              show_default=True, help="Flag pairs at least this similar (0..1).")
@click.option("--top", type=click.IntRange(0), default=DEFAULT_TOP, show_default=True,
              help="Most similar unflagged pairs listed per exercise (flagged pairs are always listed).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Processes (default: the CPUs).")
@click.pass_context
def similarity(ctx: click.Context, out: Path, as_json: bool, threshold: float, top: int, jobs: int | None) -> None:
    """Pairwise similarity of the candidates' submitted source, per exercise, from a graded OUT."""
    import json

    from grader.catalogue import Catalogue
    from grader.errors import CatalogueError
    from grader.similarity import batch_similarity, pairs_table

    try:
        catalogue = Catalogue(ctx.obj["root"])
    except CatalogueError:  # stubs unknown: compared without discounting them (the output says so)
        catalogue = None
    report = batch_similarity(out, catalogue, threshold, top, jobs)
    if as_json:
        click.echo(json.dumps([p.summary() for p in report.pairs()], indent=2))
    else:
        click.echo(pairs_table(report))


@cli.command()
@click.argument("exercise_ids", nargs=-1)
@_sandbox_option
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Exercises checked at once.")
@click.pass_context
def validate(ctx: click.Context, exercise_ids: tuple[str, ...], sandbox: str, jobs: int) -> None:
    """Authoring gate: stub scores 0, reference and alternatives full marks, mutants fail what they declare."""
    from grader.sandbox.factory import resolve_kind
    from grader.validate import validate as run_validate

    kind = resolve_kind(sandbox)
    click.echo(f"validating with the {kind} sandbox", err=True)

    def on_done(check: Any) -> None:
        status = "ok" if check.ok else "FAILED"
        click.echo(f"{check.exercise}: {status} ({check.duration_s:.1f} s; reference {check.reference_duration_s:.1f} s)")
        for p in check.problems:
            click.echo(f"  problem: {p}")
        for v in check.variants:
            mark = "ok  " if v.ok else "FAIL"
            click.echo(f"  {mark} {v.variant:<32} {v.score:g}/{v.max_score:g}" + (f"  {v.problem}" if v.problem else ""))

    checks = run_validate(_catalogue(ctx), list(exercise_ids) or None, kind, jobs, on_done)
    failed = [c.exercise for c in checks if not c.ok]
    if failed:
        click.echo(f"validate failed for: {', '.join(failed)}", err=True)
        ctx.exit(1)
    click.echo(f"all {len(checks)} exercise(s) valid")


@cli.group()
def image() -> None:
    """The Docker runner image."""


@image.command("build")
@click.option("--base", "base_image", default="python:3.11-slim", show_default=True,
              help="Base image; when it cannot be pulled, one is built from Debian's packages.")
@click.option("--force", is_flag=True, help="Rebuild even if an image with the same inputs exists.")
def image_build(base_image: str, force: bool) -> None:
    """Build the runner image from docker/ (tagged with a hash of its inputs)."""
    from grader.sandbox.image import build_runner_image

    tag = build_runner_image(base_image=base_image, force=force, progress=lambda line: click.echo(line, err=True))
    click.echo(tag)


@cli.command()
@click.option("--remove-leftovers", is_flag=True, help="Remove containers left behind by earlier runs.")
def doctor(remove_leftovers: bool) -> None:
    """Check the sandboxes: Docker engine, runner image, GPU runtime, bubblewrap, warm workers, leftovers."""
    from grader.sandbox.local import bwrap_status

    ok, detail = bwrap_status()
    click.echo(f"bubblewrap: {'ok, ' + detail if ok else 'unavailable (' + detail + '): local grading runs unconfined'}")
    if ok:
        from grader.sandbox.warm import warm_status

        warm, why = warm_status()
        click.echo("warm workers: " + ("ok (local workers are forked from a nursery)" if warm
                                       else f"unavailable ({why}): every local worker starts afresh"))
    from grader.sandbox.engine import EngineUnavailable, docker_client, gpu_runtime_available

    try:
        client = docker_client(timeout=10)
    except EngineUnavailable as exc:
        click.echo(f"docker: {exc}")
        click.echo("sandbox auto: " + ("local" if ok else "local-unconfined"))
        return
    from grader.sandbox.docker import leftovers
    from grader.sandbox.docker import remove_leftovers as remove
    from grader.sandbox.image import find_runner_image, runner_image_tag

    version = client.version()
    click.echo(f"docker: engine {version.get('Version', '?')} (API {version.get('ApiVersion', '?')})")
    found = find_runner_image(client)
    click.echo(f"runner image: {found or 'missing (expected ' + runner_image_tag() + '); run `grader image build`'}")
    click.echo(f"GPU runtime: {'available' if gpu_runtime_available(client) else 'not available'}")
    left = leftovers(client)
    click.echo(f"leftover containers: {len(left)}" + (" (remove with --remove-leftovers)" if left and not remove_leftovers else ""))
    if remove_leftovers and left:
        click.echo(f"removed {remove()} container(s)")
    click.echo("sandbox auto: " + ("docker" if found else ("local" if ok else "local-unconfined")))
    client.close()


def main() -> None:
    """The console entry point (``grader``, ``python -m grader``)."""
    try:
        cli(prog_name="grader")
        code: object = 0
    except SystemExit as done:
        code = done.code
    # Every command has written and closed what it makes by now. The interpreter's own teardown
    # (finalizing some 350 modules: pydantic's, click's, the Docker SDK's) took another 0.2 s
    # of every run here: run the exit handlers, flush, and leave without it.
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away (`grader ... | head`)
            pass
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))


if __name__ == "__main__":
    main()
