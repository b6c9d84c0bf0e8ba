"""Faults, with the real thing: runs killed with SIGKILL at any moment, two runs started at once in one output
folder, a full disk (a small tmpfs, and a file-size limit), a read-only output folder, and a baseline whose files
were edited after the run. Never a lost or half-written run folder, always one clear line."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reportgen.archive.folder import GRACE_SECONDS
from reportgen.archive.runs import resolve_run, run_folders, verify

from .conftest import make_blobs_frame

FAST = ("-q", "--stability-resamples", "0")


@pytest.fixture
def blobs(tmp_path: Path) -> Path:
    path = tmp_path / "blobs.csv"
    make_blobs_frame(n=300).to_csv(path, index=False)
    return path


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "reportgen", *args]


def start(*args: str, cwd: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(command(*args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, **kwargs)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL to the run and its chart processes, as the OOM killer or a `kill -9` of the job would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)


def temporaries(root: Path) -> list[Path]:
    """The temporary run folders under ``root`` (not the write probe a starting run makes and removes)."""
    return sorted(p for p in root.iterdir() if p.name.startswith(".tmp-")) if root.exists() else []


def assert_only_complete_runs(root: Path, expected: list[Path]) -> None:
    """What ``history`` lists and ``--baseline latest`` picks: the complete runs only, each one verifying."""
    listed = run_folders(root)
    assert listed == expected, (listed, expected)
    for folder in listed:
        checked, problems = verify(folder)
        assert checked > 5 and problems == [], (folder, problems)
    assert resolve_run("latest", root) == expected[-1]


@pytest.mark.slow
def test_a_run_killed_at_any_moment_leaves_nothing_listed(blobs: Path, tmp_path: Path) -> None:
    out = tmp_path / "output"
    first = subprocess.run(command("run", str(blobs), "-o", str(out), *FAST), capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, first.stderr
    baseline = [Path(first.stdout.strip())]
    # killed while reading, clustering, drawing, rendering (fixed moments) ...
    for delay in (0.2, 1.0, 2.5, 4.0):
        process = start("run", str(blobs), "-o", str(out), *FAST, cwd=tmp_path)
        time.sleep(delay)
        finished = process.poll() is not None
        kill_group(process)
        if finished:  # it completed before the kill: then it is a complete run
            baseline = run_folders(out)
        assert_only_complete_runs(out, baseline)
    # ... and while writing the run folder: killed the moment its temporary folder appears
    caught = False
    for _ in range(8):
        process = start("run", str(blobs), "-o", str(out), *FAST, cwd=tmp_path)
        while process.poll() is None and not temporaries(out):
            time.sleep(0.0005)
        kill_group(process)
        if process.returncode == 0:
            baseline = run_folders(out)
        else:
            caught = caught or bool(temporaries(out))
        assert_only_complete_runs(out, baseline)
        if caught:
            break
    assert caught, "no kill landed while the run folder was being written"
    # the history and the baseline ignore the leftover; the next run clears it and compares with the last
    # complete run
    history = subprocess.run(command("history", "-o", str(out), "--json"), capture_output=True, text=True)
    assert history.returncode == 0 and len(json.loads(history.stdout)) == len(baseline)
    time.sleep(GRACE_SECONDS + 1)  # the next run clears a leftover once it is past the grace period
    after = subprocess.run(command("run", str(blobs), "-o", str(out), *FAST, "--baseline", "latest"),
                           capture_output=True, text=True, timeout=300)
    assert after.returncode == 0, after.stderr
    assert temporaries(out) == []
    manifest = json.loads((Path(after.stdout.strip()) / "manifest.json").read_text())
    assert manifest["baseline"]["run"] == baseline[-1].name


def test_a_leftover_of_a_live_run_is_not_cleared(tmp_path: Path) -> None:
    """The next run clears the folders nobody holds (their writer is gone), older than the grace period; a run
    still writing (another process holding the folder's lock) keeps its folder, and so does a fresh one."""
    from reportgen.archive.folder import clear_leftovers

    out = tmp_path / "output"
    out.mkdir()
    live, dead, fresh = out / ".tmp-live-1", out / ".tmp-dead-2", out / ".tmp-fresh-3"
    for folder in (live, dead, fresh):
        folder.mkdir()
    old = time.time() - GRACE_SECONDS - 60
    for folder in (live, dead):
        os.utime(folder, (old, old))
    holder = subprocess.Popen(  # another process writing the live folder: it holds the lock
        [sys.executable, "-c", ("import sys, time\nfrom pathlib import Path\n"
                                "from reportgen.archive.folder import held\n"
                                "with held(Path(sys.argv[1])):\n    print('locked', flush=True)\n    time.sleep(60)\n"),
         str(live)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert clear_leftovers(out) == [".tmp-dead-2"]
        assert sorted(p.name for p in out.iterdir()) == [".tmp-fresh-3", ".tmp-live-1"]
    finally:
        holder.kill()
        holder.wait()
    assert clear_leftovers(out) == [".tmp-live-1"]  # its writer gone, the lock went with it


@pytest.mark.slow
def test_two_runs_at_the_same_moment_both_succeed_in_separate_folders(blobs: Path, tmp_path: Path) -> None:
    out = tmp_path / "output"
    runs = [start("run", str(blobs), "-o", str(out), *FAST, "--name", "monthly", cwd=tmp_path) for _ in range(2)]
    results = [process.communicate(timeout=300) for process in runs]
    assert [process.returncode for process in runs] == [0, 0], results
    folders = sorted(Path(stdout.decode().strip()) for stdout, _ in results)
    assert folders[0] != folders[1] and sorted(run_folders(out)) == folders  # listed in the order they started
    assert all(folder.name.endswith(("-monthly", "-monthly-2")) for folder in folders)
    for folder in folders:
        assert verify(folder)[1] == []
    assert temporaries(out) == []


@contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A real small or read-only file system (needs root and mount; else the test is skipped)."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.slow
def test_a_full_disk_gives_one_line_and_no_partial_folder(blobs: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "size=200k") as small:
        result = subprocess.run(command("run", str(blobs), "-o", str(small), *FAST), capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 1 and result.stdout == ""
        line = one_error_line(result.stderr)
        assert f"cannot write the run folder in {small}: No space left on device" in line, line
        assert "Check the free space" in line
        assert list(small.iterdir()) == []  # no run folder, no temporary folder, no probe


@pytest.mark.slow
def test_a_file_size_limit_gives_one_line_and_no_partial_folder(blobs: Path, tmp_path: Path) -> None:
    """The same through the kernel's file-size limit (works without root): writing stops half-way into a file."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))

    out = tmp_path / "output"
    result = subprocess.run(command("run", str(blobs), "-o", str(out), *FAST), capture_output=True, text=True,
                            timeout=300, preexec_fn=limit)
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert f"cannot write the run folder in {out}: File too large" in line, line
    assert list(out.iterdir()) == []


def test_a_read_only_output_folder_gives_one_line(invoke, blobs: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        context = tmpfs(tmp_path / "locked", "ro,size=1m")
    else:
        (tmp_path / "locked").mkdir(mode=0o555)
        context = contextmanager(lambda: iter([tmp_path / "locked"]))()
    with context as locked:
        result = invoke("run", str(blobs), "-o", str(locked / "out"), *FAST)
        assert result.exit_code == 1
        line = one_error_line(result.stderr)
        assert f"cannot write to the output folder {locked / 'out'}: Read-only file system" in line or \
            "Permission denied" in line, line
        assert list(locked.iterdir()) == []


@pytest.mark.parametrize("tamper", ["edit model.json", "edit segments.csv", "delete segments.csv", "edit report.pdf"])
def test_an_altered_baseline_is_refused(invoke, blobs: Path, tmp_path: Path, tamper: str) -> None:
    first = invoke("run", str(blobs), *FAST, "--format", "html,pdf")
    assert first.exit_code == 0, first.stderr
    folder = Path(first.stdout.strip())
    action, name = tamper.split(" ")
    target = folder / name
    if action == "delete":
        target.unlink()
    elif name == "model.json":
        model = json.loads(target.read_text())
        model["scaler"]["center"][0] += 1.0  # a quiet edit: moves every customer's scaled position
        target.write_text(json.dumps(model, indent=2))
    else:
        with target.open("ab") as handle:
            handle.write(b"\n")
    refused = invoke("run", str(blobs), *FAST, "--baseline", "latest")
    assert refused.exit_code == 1
    line = one_error_line(refused.stderr)
    what = "missing" if action == "delete" else "changed"
    assert f"the run {folder.name} was altered after it was made ({name} {what}): it cannot serve as a baseline" \
        in line, line
    assert len(run_folders(tmp_path / "output")) == 1  # no new run
    assert invoke("verify", str(folder)).exit_code != 0
    compared = invoke("compare", str(folder), str(folder))
    assert compared.exit_code == 1 and "was altered after it was made" in compared.stderr
