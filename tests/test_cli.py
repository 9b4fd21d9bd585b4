"""``python -m optviz``: the headless export reproduces the app's runs; bad input exits 2."""

import os
import subprocess
import sys
import urllib.parse

import pytest
from PIL import Image

from optviz import config, export, presets
from optviz.__main__ import main

QUERY = "surface=ravine&sp.kappa=20&start=-2,1.5&steps=120&seed=3&o0=adam&o0.lr=0.05&o1=momentum"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as e:  # argparse's own errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def expected_csv(comparison: config.Comparison) -> str:
    return export.trajectories_csv(comparison, config.run_comparison(comparison))


@pytest.mark.parametrize(
    "query",
    [QUERY, "?" + QUERY, "http://localhost:8501/?" + QUERY, "https://x.org/app?" + QUERY + "#top"],
)
def test_permalink_export_matches_the_app(capsys, tmp_path, query):
    out = tmp_path / "run.csv"
    code, _, err = run_cli(capsys, "export", "--query", query, "-o", str(out), "-q")
    assert code == 0, err
    comparison, notices = config.from_query(urllib.parse.parse_qs(QUERY))
    assert notices == []
    assert comparison.steps == 120 and comparison.runs[0].options == {"lr": 0.05}
    assert out.read_text() == expected_csv(comparison)


def test_query_notices_go_to_stderr(capsys, tmp_path):
    out = tmp_path / "run.json"
    code, _, err = run_cli(
        capsys, "export", "--query", QUERY + "&o0.lr=abc&bogus=1", "-o", str(out)
    )
    assert code == 0
    assert "bogus" in err and "o0.lr" in err
    assert out.exists()


def test_preset_export(capsys, tmp_path):
    name = next(iter(presets.PRESETS))
    out = tmp_path / "preset.csv"
    code, stdout, err = run_cli(capsys, "export", "--preset", name, "-o", str(out))
    assert code == 0, err
    assert "wrote" in stdout
    assert out.read_text() == expected_csv(presets.get(name).comparison)


def test_explicit_options(capsys, tmp_path):
    out = tmp_path / "explicit.csv"
    args = ["--surface", "rosenbrock", "--start", "-1.5,2", "--steps", "40", "--seed", "1"]
    args += ["--optimizer", "gd:lr=0.001", "--optimizer", "adam:lr=0.02,beta1=0.8"]
    code, _, err = run_cli(capsys, "export", *args, "-o", str(out))
    assert code == 0, err
    comparison = config.Comparison(
        surface="rosenbrock",
        start=(-1.5, 2.0),
        steps=40,
        seed=1,
        runs=(
            config.RunSpec("gd", {"lr": 0.001}),
            config.RunSpec("adam", {"lr": 0.02, "beta1": 0.8}),
        ),
    )
    assert out.read_text() == expected_csv(comparison)


def test_explicit_options_override_a_preset(capsys, tmp_path):
    name = next(iter(presets.PRESETS))
    out = tmp_path / "override.json"
    code, _, err = run_cli(capsys, "export", "--preset", name, "--steps", "7", "-o", str(out))
    assert code == 0, err
    assert '"steps": 7' in out.read_text()


@pytest.mark.parametrize(
    ("suffix", "size"), [("gif", (160, 120)), ("png", (160, 120)), ("mp4", None)]
)
def test_image_formats_from_the_suffix(capsys, tmp_path, suffix, size):
    out = tmp_path / f"anim.{suffix}"
    args = ["--query", QUERY, "--size", "160x120", "--frames", "4", "--fps", "5"]
    code, _, err = run_cli(capsys, "export", *args, "-o", str(out))
    assert code == 0, err
    if size:
        assert Image.open(out).size == size
    else:
        assert out.read_bytes()[4:8] == b"ftyp"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fps", "0"], "fps"),
        (["--size", "-800x600"], "width"),
        (["--size", "800x-6"], "height"),
        (["--size", "big"], "800x600"),
        (["--frames", "1"], "frames"),
        (["--loop", "-1"], "loop"),
        (["--hold", "-2"], "hold_last"),
        (["--tail", "long"], "tail"),
        (["--preset", "nope"], "nope"),
        (["--optimizer", "nope"], "nope"),
        (["--optimizer", "adam:lr"], "key=value"),
        (["--optimizer", "adam:lr=-1"], "lr"),
        (["--surface", "nope"], "nope"),
        (["--start", "1,2,3"], "start"),
        (["--steps", "0"], "steps"),
        (["--format", "tiff"], "format"),
        (["--preset", "x", "--query", "surface=ravine"], "not allowed"),
        (["--size", "3840x2160", "--frames", "1000"], "too large"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(capsys, tmp_path, args, message):
    out = tmp_path / "bad.gif"
    code, _, err = run_cli(capsys, "export", *args, "-o", str(out))
    assert code == 2
    assert message in err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("/proc/nope/x.gif", "does not exist"),
        ("{tmp}/missing/x.gif", "does not exist"),
        ("{tmp}/folder.gif", "is a directory"),
        ("{tmp}/x.txt", "format"),
    ],
)
def test_bad_output_exits_2_and_writes_nothing(capsys, tmp_path, output, message):
    (tmp_path / "folder.gif").mkdir()
    code, _, err = run_cli(capsys, "export", "-o", output.format(tmp=tmp_path))
    assert code == 2
    assert message in err
    assert os.listdir(tmp_path) == ["folder.gif"]


def test_failed_write_exits_2_and_leaves_no_file(capsys, tmp_path, monkeypatch):
    real_replace = os.replace

    def fail(src, dst):
        # Only the export's own rename fails (Numba's cache also renames files).
        if str(dst).startswith(str(tmp_path)):
            raise OSError("No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(export.os, "replace", fail)
    code, _, err = run_cli(capsys, "export", "--steps", "5", "-o", str(tmp_path / "x.csv"))
    assert code == 2
    assert "No space left" in err
    assert os.listdir(tmp_path) == []


def test_warm_reports_its_time(capsys):
    code, out, _ = run_cli(capsys, "warm")
    assert code == 0
    assert "ready in" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], ["warm", "export"]),
        (
            ["export", "--help"],
            ["--preset", "--query", "--optimizer", "--size", "--tail", "--hold"],
        ),
    ],
)
def test_help(args, expected, tmp_path):
    """From any directory: the venv that `make` builds has this checkout on its path."""
    result = subprocess.run(
        [sys.executable, "-m", "optviz", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for word in expected:
        assert word in result.stdout
