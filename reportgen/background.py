"""A second process that draws charts and writes the PDF while the main process runs the analysis.

Plotting (matplotlib) and PDF layout (WeasyPrint) are pure-Python-heavy and hold the GIL, so threads do not help;
a helper process (``python -m reportgen.background``: a fresh interpreter that never re-runs the caller's script,
unlike multiprocessing's spawn, and inherits nothing, unlike fork) imports them, draws the charts that do not
depend on the segmentation while K-means runs, prepares WeasyPrint, and renders the PDF. Messages are pickled
over the helper's stdin and stdout.

Both renderers have the same small interface, so the pipeline does not care which one it has:

* ``submit(name, *args)`` queues ``charts.<name>(*args)`` (a function returning a tuple of Charts);
* ``collect()`` returns the charts of every submitted job, in submission order;
* ``pdf(html)`` returns the PDF bytes;
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


def _pdf(html: str) -> bytes:
    from .render import write_pdf

    return write_pdf(html)


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

    def pdf(self, html: str) -> bytes:
        return _pdf(html)

    def close(self) -> None:
        self.jobs.clear()


def _serve(inbox, outbox) -> None:  # pragma: no cover - runs in the helper process (tested through ProcessRenderer)
    """The helper process: answer ("call", name, args) and ("pdf", html) messages until ("stop",) or EOF."""
    import warnings

    warnings.simplefilter("ignore")
    _warm_up_pdf()  # imports and fonts first: the first job arrives only once the data is read and cleaned
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError):
            return
        if message[0] == "stop":
            return
        start = time.perf_counter()
        try:
            result = _call(message[1], message[2]) if message[0] == "call" else _pdf(message[1])
            reply = ("ok", result, time.perf_counter() - start)
        except ReportgenError as exc:
            reply = ("reportgen", (type(exc).__name__, exc.message, exc.hint), 0.0)
        except Exception as exc:
            reply = ("error", f"{type(exc).__name__}: {exc}", 0.0)
        try:
            outbox.send(reply)
        except (EOFError, OSError):
            return


def _warm_up_pdf() -> None:  # pragma: no cover - runs in the helper process
    try:
        import matplotlib.figure  # noqa: F401
        import weasyprint

        weasyprint.HTML(string="<p>warm-up</p>").write_pdf()
    except Exception:
        pass  # the real call reports any problem


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

    def pdf(self, html: str) -> bytes:
        if self.alive:
            try:
                self.outbox.send(("pdf", html))
                return self._answer()
            except (OSError, EOFError):
                self.alive = False
        return _pdf(html)

    def close(self) -> None:
        if self.alive:
            with contextlib.suppress(OSError, EOFError, ValueError):
                self.outbox.send(("stop",))
        self.outbox.close()
        self.inbox.close()
        # no wait: the helper exits by itself on "stop" or end of input, while this process writes the run
        # folder (its interpreter shutdown takes a few tenths of a second); subprocess reaps it later.


def start_renderer(workers: int) -> InlineRenderer | ProcessRenderer:
    """A helper process when ``workers`` > 1 and one can be started, else in-process rendering."""
    if workers > 1:
        try:
            return ProcessRenderer()
        except (OSError, RuntimeError):
            pass
    return InlineRenderer()


if __name__ == "__main__":  # pragma: no cover - the helper process
    _helper_main()
