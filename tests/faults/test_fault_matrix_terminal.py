"""Fault cases F16, F17, F27–F30 (tests/faults/README.md): the terminal — hostile text, markup, resize storms, SSH drops, no TTY,
and credentials. The pty tests run the real `python -m aitop` in a pseudo-terminal and assert on the bytes
it writes; the pilot tests walk the running app's widgets.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from kit import ESC_OR_C1, PtySession, aitop_env, escape_audit, plain, screen_text, settle
from rich.style import Style
from rich.text import Text
from server import Exporter, FaultServer, PrometheusAPI, api_error, query_kind
from textual.events import Resize
from textual.geometry import Size
from textual.widgets import DataTable, Static

from aitop import cli, guard
from aitop.monitor import Monitor
from aitop.sources.base import CollectorBase
from aitop.sources.prometheus.collector import PrometheusCollector
from aitop.sources.scrape.collector import ScrapeCollector

HOSTILE = [
    "t\x1b]0;PWNED-TITLE\x07",  # window title (OSC 0, BEL-terminated)
    "s\x1b]2;PWNED-TITLE2\x1b\\",  # window title (OSC 2, ST-terminated)
    "c\x1b]52;c;UFdORUQ=\x07",  # clipboard write (OSC 52)
    "clear\x1b[2J\x1b[H",  # CSI: clear screen
    "csi\u009b31mred",  # C1 CSI
    "h\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",  # hyperlink (OSC 8)
    "[/]",
    "[/bold]",
    "[link=https://evil.example]x[/link]",
    "[@click=app.quit]QUIT[/]",
    "C:\\",
]
#: Sequences only data could have produced: aitop never sets a title, the clipboard or a hyperlink.
FORBIDDEN = [rb"\x1b\][012];", rb"\x1b\]52;", rb"\x1b\]8;", rb"\xc2\x9b", rb"\x1b\[2J", rb"PWNED-TITLE\x07"]
#: One xdist worker runs this module, so the pty scenarios (a module fixture) run once, side by side.
pytestmark = pytest.mark.xdist_group("faults-terminal")


@pytest.fixture(scope="module")
def terminal_runs(tmp_path_factory):
    """The pty scenarios of this module, run all at once (each waits mostly on its own terminal), started
    when the first test asks; `terminal_runs(name)` returns a scenario's result or raises its error."""
    scenarios = {
        "f16": scenario_f16,
        "f27-f28": scenario_f27_f28,
        "f28-never-arrives": scenario_f28_never,
        "f29": scenario_f29,
        "f30": scenario_f30,
    }
    with ThreadPoolExecutor(max_workers=len(scenarios)) as pool:
        futures = {name: pool.submit(run, tmp_path_factory.mktemp(name)) for name, run in scenarios.items()}
        done = {name: (future.exception() or future.result()) for name, future in futures.items()}

    def result(name: str) -> dict:
        outcome = done[name]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return result


# -- F16 ----------------------------------------------------------------------------------------------


def scenario_f16(tmp: Path) -> dict:
    with FaultServer(Exporter(HOSTILE, rate=3.0), lifetime=60) as server:
        session = PtySession([server.url + "/metrics", "--interval", "0.5"], aitop_env(tmp))
        try:
            drawn = session.read_until(b"^[]52;c;UFdORUQ=^G", 20)  # the row is drawn, its escape visible
            drawn = drawn and session.read_until(lambda out: b"req/s" in out and out.count(b"^[") >= 6, 10)
            for row in range(3, 3 + len(HOSTILE)):  # click every row: a [@click=…] label must do nothing
                session.write(f"\x1b[<0;6;{row}M\x1b[<0;6;{row}m".encode())
                session.read(0.03)
                session.write(b"\x1b")  # back from a drill-down, if the click opened one
            session.read(0.6)  # at least one more poll and repaint
            alive = session.process.poll() is None
            session.write(b"q")
            code = session.wait(15)
        finally:
            session.stop()
    return {"drawn": drawn, "alive_after_clicks": alive, "code": code, "output": session.output}


def test_f16_escape_sequences_in_labels_never_reach_the_terminal(terminal_runs):
    run = terminal_runs("f16")
    output = run["output"]
    for pattern in FORBIDDEN:  # title, clipboard, hyperlinks, screen clears: none from data
        assert not re.search(pattern, output), f"{pattern!r} reached the terminal"
    audit = escape_audit(output)  # every ESC accounted for: Textual's own CSI shapes and OSC 22 only
    print(f"FIGURES f16: {audit}")
    assert audit["from_data"] == 0 and audit["c1"] == 0, audit["examples"]
    assert run["drawn"], plain(output)[-2000:]
    assert run["alive_after_clicks"], "a click on a label ended the app"
    assert run["code"] == 0 and b"Traceback" not in output
    assert b"^[]0;PWNED-TITLE^G" in output and b"<U+009B>31mred" in output  # shown as visible escapes
    assert b"^[]52;c;UFdORUQ=^G" in output and b"^[]8;;http://evil.example^[\\link" in output


# -- F17 ----------------------------------------------------------------------------------------------

MARKUP = ["[/]", "[/bold]", "[link=https://evil.example]x[/link]", "[@click=app.quit]QUIT[/]", "C:\\",
          "x\x1b]8;;http://evil.example\x1b\\y", "[bold red]shout[/]"]
FRAGMENTS = ("[/]", "[/bold]", "evil.example", "@click", "C:\\", "shout")


def _walk_for_markup_from_data(app) -> int:
    """Fail if a `str` reaches a DataTable cell, or data reaches a markup-enabled widget as `str`, on any
    screen; also if any cell carries a hyperlink or a click action. Returns the number of cells checked."""
    cells = 0
    for screen in app.screen_stack:
        for table in screen.query(DataTable):
            for key in table.rows:
                for cell in table.get_row(key):
                    cells += 1
                    assert not isinstance(cell, str), f"str cell {cell!r} in {table!r}: it is parsed as markup"
                    if isinstance(cell, Text):
                        for span in cell.spans:
                            style = span.style if isinstance(span.style, Style) else None
                            assert style is None or (not style.link and "@click" not in (style.meta or {}))
        for widget in screen.query(Static):
            content = widget.content
            if isinstance(content, str) and widget._render_markup:
                leaked = [f for f in FRAGMENTS if f in content]
                assert not leaked, f"data {leaked} in the markup of {widget!r}: {content[:120]!r}"
    return cells


async def test_f17_markup_in_labels_alerts_and_errors_stays_literal(serve):
    from aitop.ui.app import AitopApp
    from aitop.ui.screens import DetailScreen, OverviewScreen

    api = PrometheusAPI(dict.fromkeys(MARKUP, 2.0))
    api.alerts = [{"labels": {"alertname": f"A{i}[/]", "severity": "critical", "model": label},
                   "annotations": {"summary": f"{label} [@click=app.quit]x[/] \x1b]52;c;eA==\x07"},
                   "state": "firing", "activeAt": "2026-11-23T03:00:00Z", "value": "1e+00"}
                  for i, label in enumerate(MARKUP)]
    api.fault(lambda r: api_error(400, "bad_data", "parse error near [/bold] [link=https://evil.example]x[/link]")
              if query_kind(r) == "latency_p99" else None)  # a server error body with markup, as a warning
    # The claim is about markup, not speed: a deadline far above the usual 2 s, so that a loaded machine
    # cannot turn a poll or the drill-down's history into a timeout (a hang still fails the test).
    collector = PrometheusCollector(serve(api).url, window=30, timeout=30.0)
    app = AitopApp(Monitor(collector), interval=None)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:  # (toasts are off by default)
        for _ in range(2):
            await app.poll_once()
            await pilot.pause()
        assert _walk_for_markup_from_data(app) >= len(MARKUP)
        text = screen_text(app)
        assert "[@click=app.quit]QUIT[/]" in text and "[/bold]" in text  # shown literally
        assert "[link=https://evil.example]x[/link]" in text
        assert "A0[/]" in text and "^[]52;c;eA==^G" in text  # the alert sidebar: names, summaries, escapes
        assert "[/bold] [link=https://evil.example]x[/link]" in " ".join(app.latest.warnings)  # error body

        table = app.query_one(DataTable)
        for y in range(1, table.row_count + 1):  # click every row: nothing but selection happens
            await pilot.click(DataTable, offset=(4, y))
            await pilot.pause()
            if isinstance(app.screen, DetailScreen):  # a click on the highlighted row drills down
                await pilot.press("escape")
                await pilot.pause()
        assert app.is_running
        groups = [table.get_row(key)[0].plain for key in table.rows]
        for label in ("[@click=app.quit]QUIT[/]",):  # drill into it: the detail screen shows it literally
            table.move_cursor(row=next(i for i, g in enumerate(groups) if label in g))
            await pilot.press("enter")
            # The drill-down loads in a worker started by the screen's mount, which may come after the
            # key press returns: wait for its first load itself, not for the workers running right now.
            assert await settle(lambda: isinstance(app.screen, DetailScreen) and app.screen.loads >= 1, timeout=30.0)
            await pilot.pause()
            _walk_for_markup_from_data(app)
            assert label in screen_text(app)
            await pilot.press("escape")
            await pilot.pause()
        # A toast aitop raises with data in it: the row asked for (palette "jump to row") is gone.
        assert not app.overview.open_detail(("llm", "[@click=app.quit]gone[/] [link=https://evil.example]x\x1b]52;c;eA==\x07"))
        await pilot.pause(0.1)
        _walk_for_markup_from_data(app)
        from textual.widgets._toast import Toast

        (toast,) = app.screen.query(Toast)
        shown = toast.render()
        assert str(shown) == "no row '[@click=app.quit]gone[/] [link=https://evil.example]x^[]52;…' in the current view"
        assert "in the current view" in screen_text(app)  # (drawn over the sidebar, bottom right)
        assert not any("@click" in str(span.style) or "link" in str(span.style) for span in shown.spans)
        assert app.is_running and app.return_code is None and isinstance(app.screen, OverviewScreen)
    await collector.aclose()


async def test_f17_f18_table_cells_from_a_real_scrape_are_text_and_bounded(serve):
    """The same walk over a scrape-mode table fed C0/C1/bidi/1 MB labels (F18: widths intact)."""
    from aitop.ui.app import AitopApp
    from aitop.ui.widgets import TopTable

    labels = HOSTILE + ["tab\tnul\x00", "bidi\u202eevil", "zw\u200bsp", "L" * 1_000_000]
    collector = ScrapeCollector([serve(Exporter(labels)).url + "/metrics"], window=30, timeout=2.0)
    app = AitopApp(Monitor(collector), interval=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        assert table.row_count == len(labels)
        assert _walk_for_markup_from_data(app) >= len(labels)
        for key in table.rows:
            model = table.get_row(key)[0].plain
            assert "\n" not in model and not ESC_OR_C1.search(model.encode())
            assert len(model) <= 60  # a 1 MB label is cut to the column, the layout holds
        assert table.size.width <= 120
    await collector.aclose()


# -- F27 ----------------------------------------------------------------------------------------------


def scenario_f27_f28(tmp: Path) -> dict:
    """F27, then F28 with SIGHUP delivered: the storm, 20×5, 200×60, then the terminal hangs up."""
    with FaultServer(Exporter(["alpha", "beta"]), lifetime=60) as server:
        session = PtySession([server.url + "/metrics", "--interval", "0.5"], aitop_env(tmp, NO_COLOR="1"))
        try:
            drawn = session.read_until(b"alpha", 20)
            sizes = [(80, 24), (200, 60), (61, 16), (150, 45), (100, 30)]
            for i in range(50):  # 50 resizes in one second ("50 per second for 10 s", scaled down)
                session.resize(*sizes[i % len(sizes)])
                session.read(0.02)
            session.resize(20, 5)
            tiny = session.read_until(lambda out: "too small" in plain(out[-4000:]), 10)
            mark = len(session.output)
            session.resize(200, 60)
            restored = session.read_until(lambda out: b"alpha" in out[mark:] and b"beta" in out[mark:], 10)
            alive = session.process.poll() is None
            hangup = _drop(session)
        finally:
            session.stop()
    return {"drawn": drawn, "tiny": tiny, "restored": restored, "alive": alive, "output": session.output,
            **hangup, **_leftovers(tmp)}


def _drop(session: PtySession) -> dict:
    """Close the terminal as sshd does on a dropped connection; how fast did the app go, did it spin?"""
    dropped = time.monotonic()
    session.close_master()
    spin = None
    try:
        code = session.process.wait(timeout=5)  # exits within 5 s
    except subprocess.TimeoutExpired:
        code = None
        before = session.cpu_seconds()
        time.sleep(1.0)
        spin = session.cpu_seconds() - before
    elapsed = time.monotonic() - dropped
    # "No CPU spin over the next 5 s": nothing of the session may live on (a thread or child left spinning
    # on the dead tty would keep the process group alive).
    try:
        os.killpg(session.process.pid, 0)
        leftover = True
    except ProcessLookupError:
        leftover = False
    return {"code": code, "elapsed": elapsed, "spin": spin, "leftover": leftover}


def _leftovers(tmp: Path) -> dict:
    state = tmp / "state" / "aitop"
    log = state / "aitop.log"
    return {"crashes": list(state.glob("crash-*")), "log": log.read_text() if log.exists() else ""}


def test_f27_resize_storm_and_a_20x5_terminal(terminal_runs):
    run = terminal_runs("f27-f28")
    assert run["drawn"] and run["alive"], plain(run["output"])[-2000:]  # survived the storm
    assert run["tiny"], "no 'terminal too small' notice at 20×5"
    assert run["restored"], "rows not drawn again at 200×60"
    assert b"Traceback" not in run["output"] and not run["crashes"]
    assert_no_hue(run["output"])  # NO_COLOR honoured


def assert_no_hue(output: bytes) -> None:
    """Every colour in the SGR codes is a grey: Textual's NO_COLOR monochrome (no hue carries meaning)."""
    from rich._palettes import EIGHT_BIT_PALETTE

    codes = re.findall(rb"\x1b\[([0-9;]*)m", output)
    assert codes
    for code in codes:
        parts = [int(p) for p in code.split(b";") if p]
        for i, part in enumerate(parts):
            if part in (38, 48) and i + 1 < len(parts):
                if parts[i + 1] == 5:
                    rgb = tuple(EIGHT_BIT_PALETTE[parts[i + 2]])
                elif parts[i + 1] == 2:
                    rgb = tuple(parts[i + 2 : i + 5])
                else:
                    continue
                assert max(rgb) - min(rgb) <= 2, f"a coloured SGR {code!r} under NO_COLOR"
            elif 30 <= part <= 37 or 40 <= part <= 47 or 90 <= part <= 97 or 100 <= part <= 107:
                assert part in (30, 37, 40, 47, 90, 97, 100, 107), f"an ANSI colour {code!r} under NO_COLOR"


async def test_f27_selection_and_sort_survive_a_resize_storm(serve):
    from aitop.ui.app import AitopApp
    from aitop.ui.widgets import TopTable

    collector = ScrapeCollector([serve(Exporter(["a", "b", "c", "d", "e"])).url + "/metrics"], window=30)
    app = AitopApp(Monitor(collector), interval=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        await pilot.press("greater_than_sign", "I", "down", "down")  # another sort column, inverted; row 3
        await pilot.pause()
        sort, selected = table.sort_state, table.selected_key
        assert selected is not None
        for i in range(10):  # 50 resize events a second, without waiting for each to be drawn
            size = Size(80 + i % 7 * 20, 24 + i % 5 * 8)
            app._driver._size = size
            app.post_message(Resize(size, size))
            await asyncio.sleep(0.02)
        await pilot.resize_terminal(20, 5)
        assert await settle(lambda: "too small" in screen_text(app), timeout=5.0), screen_text(app)
        await pilot.resize_terminal(200, 60)
        await app.poll_once()
        await pilot.pause()
        assert table.sort_state == sort and table.selected_key == selected
        assert app.is_running
    await collector.aclose()


# -- F28 ----------------------------------------------------------------------------------------------


def scenario_f28_never(tmp: Path) -> dict:
    """The pty is not the controlling terminal (as with SIGHUP ignored or lost): no SIGHUP ever arrives, so
    the app must notice the hang-up itself. (The delivered case ends scenario_f27_f28.)"""
    with FaultServer(Exporter(["alpha"]), lifetime=60) as server:
        session = PtySession([server.url + "/metrics", "--interval", "0.5"], aitop_env(tmp), controlling=False)
        try:
            drawn = session.read_until(b"alpha", 20)
            hangup = _drop(session)
        finally:
            session.stop()
    return {"drawn": drawn, **hangup, **_leftovers(tmp)}


@pytest.mark.parametrize("sighup", ["delivered", "never-arrives"])
def test_f28_ssh_drop_exits_cleanly(terminal_runs, sighup):
    run = terminal_runs("f27-f28" if sighup == "delivered" else "f28-never-arrives")
    assert run["drawn"]
    assert run["code"] is not None, f"still running 5 s after the drop (CPU {run['spin']:.2f} s in the next second)"
    print(f"FIGURES f28 {sighup}: exit {run['code']} after {run['elapsed']:.2f} s, leftover={run['leftover']}")
    # 129 = 128 + SIGHUP from aitop's own handler: an exception escaping on the dead tty would exit 1 instead.
    assert run["elapsed"] < 5 and run["code"] == 129, run
    assert not run["leftover"], "a process of the session outlived the hang-up"
    assert not run["crashes"] and "Traceback" not in run["log"]  # no traceback anywhere


def test_f28_a_thread_that_dies_writes_no_traceback_to_the_terminal(state_dir, capsys):
    """While the TUI runs, an exception ending any thread goes to a 0600 crash file without locals."""
    import threading

    def boom() -> None:
        bearer_token = PLANTED  # noqa: F841 — a local a traceback-with-locals would print
        raise RuntimeError("thread boom")

    before = threading.excepthook
    with guard.thread_errors_off_the_terminal(129):
        thread = threading.Thread(target=boom, name="aitop-worker")
        thread.start()
        thread.join()
    (crash,) = state_dir.glob("crash-*.log")
    assert "RuntimeError: thread boom" in crash.read_text() and PLANTED not in crash.read_text()
    assert crash.stat().st_mode & 0o777 == 0o600
    err = capsys.readouterr().err
    assert "Traceback" not in err and PLANTED not in err
    assert threading.excepthook is before  # put back after the run


# -- F29 ----------------------------------------------------------------------------------------------


def scenario_f29(tmp_path: Path) -> dict:
    import pty

    server = FaultServer(Exporter(["alpha"]), lifetime=60).start()
    url = server.url + "/metrics"
    env = aitop_env(tmp_path)
    runs = {}
    files = {}
    # The baseline: the start-up every run below pays (Python, then Textual, imported before the refusal),
    # launched with them so it meets the same load. The runs' wait is derived from it, not a fixed figure.
    launched = time.monotonic()
    baseline = subprocess.Popen([sys.executable, "-c", "import aitop.cli, aitop.ui.app"], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for name, args, stdin, term in [
        ("stdout-to-file", [url], "pty", None),
        ("stdin-devnull", [url], "devnull", None),
        ("term-dumb", [url], "pty", "dumb"),
        ("once", [url, "--once", "--window", "0.2"], "devnull", None),
    ]:
        out = files[name] = tmp_path / f"{name}.out"
        master, slave = pty.openpty()
        stdin_file = subprocess.DEVNULL if stdin == "devnull" else slave
        stdout_file = slave if name == "term-dumb" else out.open("wb")
        runs[name] = (subprocess.Popen([sys.executable, "-m", "aitop", *args], stdin=stdin_file, stdout=stdout_file,
                                       stderr=subprocess.PIPE, env={**env, "TERM": term or env["TERM"]}), master, slave)
    _, err = baseline.communicate(timeout=50)  # (a plain import: only the test's own timeout is shorter)
    assert baseline.returncode == 0, err.decode()
    # Refusing or printing once is the start-up and a little more: three start-ups (at least 20 s) is ample,
    # and a run that drew a live view instead would never end by itself.
    deadline = launched + max(20.0, 3 * (time.monotonic() - launched))
    results = {}
    for name, (process, master, slave) in runs.items():
        _, err = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
        os.close(slave)
        written = files[name].read_bytes() if files[name].exists() else b""
        if name == "term-dumb":
            written = b""
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                written += chunk
        os.close(master)
        results[name] = (process.returncode, written, err.decode())
    server.stop()
    return results


def test_f29_no_tty_or_dumb_terminal_refuses_or_prints_once(terminal_runs):
    results = terminal_runs("f29")
    for name in ("stdout-to-file", "stdin-devnull", "term-dumb"):
        code, written, err = results[name]
        assert code == 2, (name, code, err)
        assert "no TTY" in err and "ssh -t" in err and "--once" in err, (name, err)
        assert b"\x1b" not in written, (name, written[:200])  # no alternate screen, no escape at all
    code, written, err = results["once"]
    assert code == 0, err
    assert b"alpha" in written and not ESC_OR_C1.search(written)  # a plain snapshot


# -- F30 ----------------------------------------------------------------------------------------------

PLANTED = "glc_PLANTED_SECRET_f30_9d2c"
FORCED_CRASH = """
import sys
import aitop.ui.app as ui

TOKEN_FILE = sys.argv[1]

def crash(self):  # an exception in a key handler, with the secret in locals (Textual shows locals)
    bearer_token = open(TOKEN_FILE).read()
    headers = {"Authorization": "Bearer " + bearer_token}
    raise RuntimeError("forced failure in a handler")

ui.AitopApp.action_help = crash
from aitop.cli import main
sys.argv = ["aitop", *sys.argv[2:]]
raise SystemExit(main())
"""


def scenario_f30(tmp_path: Path) -> dict:
    api = PrometheusAPI()
    api.token = PLANTED
    refuse = {"on": False}
    api.fault(lambda r: api_error(401, "unauthorized", "token expired") if refuse["on"] else None)
    token = tmp_path / "token"
    token.write_text(PLANTED + "\n")
    token.chmod(0o644)  # readable by others: warned about
    wrapper = tmp_path / "crash.py"
    wrapper.write_text(FORCED_CRASH)
    env = aitop_env(tmp_path)
    with FaultServer(api, lifetime=60) as server:
        args = [server.url, "--prometheus", "--bearer-token-file", str(token), "--interval", "0.5", "--timeout", "1"]
        session = PtySession([str(token), *args], env, command=[sys.executable, str(wrapper)])
        try:
            drawn = session.read_until(b"alpha", 20)
            cmdline = Path(f"/proc/{session.process.pid}/cmdline").read_bytes()
            ps = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
            refuse["on"] = True  # the token is refused from now on
            refused = session.read_until(lambda out: "authentication failed" in plain(out), 10)
            session.write(b"?")  # the forced exception in a handler
            code = session.wait(15)
        finally:
            session.stop()
        authorization = {r.headers.get("authorization") for r in server.requests()}
    state = tmp_path / "state" / "aitop"
    log = state / "aitop.log"
    return {"drawn": drawn, "refused": refused, "code": code, "screen": session.output, "cmdline": cmdline, "ps": ps,
            "crashes": list(state.glob("crash-*.log")), "log": log.read_text() if log.exists() else "",
            "log_mode": log.stat().st_mode & 0o777 if log.exists() else None, "authorization": authorization}


def test_f30_planted_secret_never_reaches_screen_logs_crash_files_or_ps(terminal_runs):
    run = terminal_runs("f30")
    screen = run["screen"]
    assert run["drawn"] and run["refused"], plain(screen)[-2000:]
    assert run["authorization"] == {f"Bearer {PLANTED}"}  # the secret was used, for every request
    assert run["code"] == 1
    assert "readable by other users" in plain(screen)  # the 0644 token file was warned about
    assert "internal error (RuntimeError); details in" in " ".join(plain(screen).split())
    assert b"Traceback" not in screen
    (crash,) = run["crashes"]
    report = crash.read_text()
    assert str(run["authorization"]) and "--bearer-token-file" in run["ps"]  # (ps did list the process)
    places = [("screen", screen.decode("utf-8", "replace")), ("/proc/PID/cmdline", run["cmdline"].decode()),
              ("ps output", run["ps"]), ("log", run["log"]), ("crash file", report)]
    for where, text in places:
        assert PLANTED not in text, f"the secret reached the {where}"
    print("FIGURES f30: secret absent from " + ", ".join(f"{where} ({len(text):,} chars)" for where, text in places))
    assert "RuntimeError: forced failure in a handler" in report  # the crash dump has the frames…
    assert "bearer_token =" not in report and "headers =" not in report and "Bearer" not in report  # …no locals
    assert crash.stat().st_mode & 0o777 == 0o600 and run["log_mode"] == 0o600
    assert "internal error in the TUI (RuntimeError)" in run["log"] and "HTTP Request:" not in run["log"]


def test_f30_user_info_in_urls_and_a_readable_config_are_refused_or_warned(tmp_path, capsys, state_dir):
    assert cli.main(["snapshot", "https://alice:hunter2-PLANTED@prometheus.example:9090"]) == 2
    err = capsys.readouterr().err
    assert "credentials in URLs are not accepted" in err and "hunter2" not in err and "alice" not in err
    config = tmp_path / "config.toml"
    config.write_text('[http.headers]\nX-Team = "ops-team-7"\n')
    config.chmod(0o644)
    assert cli.main(["snapshot", "--config", str(config), "127.0.0.1:9/metrics", "--window", "0.05"]) == 1
    err = capsys.readouterr().err
    assert f"{config} holds header values and is readable by other users (chmod 600 {config})" in err
    config.chmod(0o600)
    cli.main(["snapshot", "--config", str(config), "127.0.0.1:9/metrics", "--window", "0.05"])
    assert "readable by other users" not in capsys.readouterr().err


async def test_f30_tui_crash_handler_writes_no_locals(state_dir, capsys):
    """In-process: the TUI's exception path (Textual would render locals) goes to a 0600 file."""
    from aitop.ui.app import AitopApp

    class Boom(CollectorBase):
        kind, targets, window_seconds, group_by = "scrape", ("http://x/metrics",), 30.0, None

        async def collect(self):
            from aitop.sources.base import Collected

            return Collected(time.time(), 30.0, (), (), ())

        async def aclose(self):
            pass

    app = AitopApp(Monitor(Boom()), interval=None)

    def explode():
        bearer_token = PLANTED  # noqa: F841 — a local a traceback-with-locals would print
        raise RuntimeError("boom")

    app.action_help = explode
    with guard.crash_reports_without_locals(AitopApp), pytest.raises(RuntimeError):
        async with app.run_test() as pilot:
            await pilot.press("question_mark")
            await pilot.pause()
    (crash,) = state_dir.glob("crash-*.log")
    assert PLANTED not in crash.read_text() and "RuntimeError: boom" in crash.read_text()
    assert crash.stat().st_mode & 0o777 == 0o600
    assert "aitop: internal error (RuntimeError); details in" in capsys.readouterr().err
    from textual.app import App

    assert AitopApp._handle_exception is App._handle_exception  # Textual's own again after the run
