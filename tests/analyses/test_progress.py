"""The progress bar (analyses/progress.py): it never takes a redirected stdout's lines, and
its status lines say what each process is doing (the case, the prior, the stage)."""

import multiprocessing
import time

from nll_losses.analyses.progress import Progress


def test_summary_lines_stay_on_a_redirected_stdout(capsys, monkeypatch):
    """stderr is a terminal (FORCE_COLOR makes rich treat it as one), stdout is redirected
    (run > log): the bar is drawn on stderr, the summary line is written to stdout."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    with Progress(enabled=True) as p:
        p.task("case: τ sweep", 2).advance()
        p.print("case: 10/10 agreement rows ok -> out/index.html")
        print("index: out/index.html")
    out, err = capsys.readouterr()
    assert "10/10 agreement rows ok" in out and "index: out/index.html" in out
    assert "10/10" not in err and "index:" not in err
    assert "τ sweep" in err  # the bar itself


def test_the_status_line_says_what_is_being_done(capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    with Progress(enabled=True) as p:
        p.status("iris · flat prior · find_MAP")
        p.status("iris · flat prior · NUTS: compiling, then 4 chains × 2000 iterations")
        p.show([("worker 12", "synthetic · gaussian prior · reference: sklearn")])
    err = capsys.readouterr().err
    assert "NUTS: compiling, then 4 chains × 2000 iterations" in err
    assert "synthetic · gaussian prior · reference: sklearn" in err


def test_a_worker_sends_its_status_and_sweep_points_through_a_queue():
    from nll_losses.analyses.progress import QueueStatus, drain

    queue = multiprocessing.get_context("spawn").Queue()
    worker = QueueStatus(queue, "worker 7")
    worker.status("iris · checks")
    task = worker.task("iris: τ sweep", 3)
    task.advance()
    got = []
    for _ in range(100):  # the queue's feeder thread delivers them shortly
        got += drain(queue)
        if len(got) == 3:
            break
        time.sleep(0.01)
    assert got == [
        ("worker 7", "iris · checks"),
        ("worker 7", "iris: τ sweep 0/3"),
        ("worker 7", "iris: τ sweep 1/3"),
    ]
    assert drain(None) == []


def test_a_fit_says_each_stage(model_cache):
    """run_case announces every estimator under every prior, NUTS with its chains, then the
    checks: what the terminal's status line shows."""
    from nll_losses.analyses.cases import CASES
    from nll_losses.analyses.config import RunConfig, child_seed
    from nll_losses.analyses.pipeline import run_case

    said = []

    class Recorder:
        def status(self, text, key=""):
            said.append(text)

    case = CASES["synthetic"]
    data = case.load(child_seed(7, "synthetic", "data"))
    cfg = RunConfig(
        seed=7, draws=200, tune=200, chains=2, estimators=("closed_form", "find_map", "nuts")
    )
    run_case(data, case.config, cfg, model_cache, progress=Recorder())
    for prior in ("flat", "gaussian"):
        assert f"synthetic · {prior} prior · reference: closed_form" in said
        assert f"synthetic · {prior} prior · find_MAP" in said
        assert (
            f"synthetic · {prior} prior · NUTS: compiling, then 2 chains × 400 iterations" in said
        )
    assert said[-1] == "synthetic · checks: agreement rows, loss ledger, translations"
