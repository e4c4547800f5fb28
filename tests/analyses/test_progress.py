"""The progress bar (analyses/progress.py) never takes a redirected stdout's lines."""

from analyses.progress import Progress


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
