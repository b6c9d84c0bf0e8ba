"""A second process that draws the charts while the main process runs the analysis and writes the PDF.

Plotting (matplotlib) is pure-Python-heavy and holds the GIL, so threads do not help; a helper process
(``python -m reportgen.background``: a fresh interpreter that never re-runs the caller's script, unlike
multiprocessing's spawn, and inherits nothing, unlike fork) imports matplotlib, draws the charts that do not
depend on the segmentation while K-means runs, then the segment charts while the main process prepares WeasyPrint.
Messages are pickled over the helper's stdin and stdout.

Both renderers have the same small interface, so the pipeline does not care which one it has:

* ``submit(name, *args)`` queues ``charts.<name>(*args)`` (a function returning a tuple of Charts);
* ``collect()`` returns the charts of every submitted job, in submission order;
* ``close()``.

If the helper process dies, the work is redone in the main process: a crash of the helper never fails a run.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from .errors import ReportgenError


def _call(name: str, args: tuple[Any, ...]) -> Any:
    from . import charts

    return getattr(charts, name)(*args)


class InlineRenderer:
    """Everything in this process, at the time it is asked for."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[Any, ...]]] = []
        self.seconds = 0.0

    def submit(self, name: str, *args: Any) -> None:
        self.jobs.append((name, args))

    def collect(self) -> list[Any]:
        start = time.perf_counter()
        results = [_call(name, args) for name, args in self.jobs]
        self.jobs.clear()
        self.seconds += time.perf_counter() - start
        return results

    def close(self) -> None:
        self.jobs.clear()


def _serve(inbox, outbox) -> None:  # pragma: no cover - runs in the helper process (tested through ProcessRenderer)
    """The helper process: answer ("call", name, args) messages until ("stop",) or EOF.

    While no message waits, it prepares what the next ones need, one step at a time (a message waits at most
    for the step in progress)."""
    import queue
    import threading
    import warnings

    warnings.simplefilter("ignore")
    replies: queue.Queue = queue.Queue()

    def send_replies() -> None:  # a reply (charts are large) waits in the pipe until the main process reads it;
        while (reply := replies.get()) is not None:  # meanwhile this process goes on with the next job
            try:
                outbox.send(reply)
            except (EOFError, OSError):
                return

    sender = threading.Thread(target=send_replies, daemon=True)
    sender.start()
    try:
        _answer_messages(inbox, replies.put)
    finally:
        replies.put(None)
        sender.join()


def _answer_messages(inbox, reply_with) -> None:  # pragma: no cover - runs in the helper process
    steps = list(WARM_UP)
    while True:
        while steps and not inbox.poll():
            _warm_up(steps.pop(0))
        try:
            message = inbox.recv()
        except (EOFError, OSError):
            return
        if message[0] == "stop":
            return
        start = time.perf_counter()
        try:
            result = _call(message[1], message[2])
            reply = ("ok", result, time.perf_counter() - start)
        except ReportgenError as exc:
            reply = ("reportgen", (type(exc).__name__, exc.message, exc.hint), 0.0)
        except Exception as exc:
            reply = ("error", f"{type(exc).__name__}: {exc}", 0.0)
        reply_with(reply)


def _warm_charts() -> None:  # pragma: no cover - runs in the helper process
    """matplotlib, its fonts and the Agg canvas: the first chart arrives once the data is read and cleaned."""
    from .charts import chart_style, new_figure, to_png

    with chart_style():
        fig = new_figure(1.0, 0.6)
        fig.add_subplot().set_title("warm-up")
    to_png(fig)


def _warm_pandas() -> None:  # pragma: no cover - runs in the helper process
    import pandas  # noqa: F401  (the exploration charts get a DataFrame)


WARM_UP = (_warm_charts, _warm_pandas)


def _warm_up(step) -> None:  # pragma: no cover - runs in the helper process
    with contextlib.suppress(Exception):  # the real call reports the problem
        step()


def _helper_main() -> None:  # pragma: no cover - runs in the helper process
    import os
    import sys
    from multiprocessing.connection import Connection

    inbox = Connection(os.dup(sys.stdin.fileno()), writable=False)
    outbox = Connection(os.dup(sys.stdout.fileno()), readable=False)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the message stream
    _serve(inbox, outbox)


class ProcessRenderer:
    """Jobs go to a helper process as soon as they are submitted; results come back on ``collect``."""

    def __init__(self) -> None:
        import os
        import subprocess
        import sys
        from multiprocessing.connection import Connection
        from pathlib import Path

        env = dict(os.environ)
        here = str(Path(__file__).resolve().parent.parent)  # where this reportgen is imported from
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen([sys.executable, "-m", "reportgen.background"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.outbox = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.inbox = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        self.pending: list[tuple[str, tuple[Any, ...]]] = []
        self.alive = True
        self.seconds = 0.0  # time the helper spent working

    def submit(self, name: str, *args: Any) -> None:
        self.pending.append((name, args))
        if self.alive:
            try:
                self.outbox.send(("call", name, args))
            except (OSError, EOFError, ValueError):
                self.alive = False

    def _answer(self) -> Any:
        status, value, seconds = self.inbox.recv()
        self.seconds += seconds
        if status == "ok":
            return value
        if status == "reportgen":
            from . import errors

            kind, message, hint = value
            raise getattr(errors, kind, errors.ReportgenError)(message, hint=hint)
        raise RuntimeError(f"in the chart process: {value}")

    def collect(self) -> list[Any]:
        results = []
        for name, args in self.pending:
            if self.alive:
                try:
                    results.append(self._answer())
                    continue
                except (OSError, EOFError):
                    self.alive = False  # the helper died: redo its work here
            results.append(_call(name, args))
        self.pending.clear()
        return results

    def close(self) -> None:
        if self.alive:
            with contextlib.suppress(OSError, EOFError, ValueError):
                self.outbox.send(("stop",))
            self.alive = False
        self.outbox.close()
        self.inbox.close()
        # no wait: the helper exits by itself on "stop" or end of input, while this process writes the run
        # folder (its interpreter shutdown takes a few tenths of a second); subprocess reaps it later.


Renderer = InlineRenderer | ProcessRenderer


def start_renderer(workers: int) -> Renderer:
    """A helper process when ``workers`` > 1 and one can be started, else in-process rendering."""
    if workers > 1:
        try:
            return ProcessRenderer()
        except (OSError, RuntimeError):
            pass
    return InlineRenderer()


if __name__ == "__main__":  # pragma: no cover - the helper process
    _helper_main()
