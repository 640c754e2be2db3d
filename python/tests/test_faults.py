"""Fault injection (issue 7): kill -9 in the middle of a save, damaged snapshots, a full disk, a
read-only folder, use after fork, a callback that never returns, interpreter exit with events
pending.

Each test states the fault and what must hold. Processes that may crash or hang run in a
subprocess with a timeout (``conftest.run_python``). ``RELIABILITY_KILL_ROUNDS`` raises the
number of kill -9 rounds for a long local run (3 in CI).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import run_python
from reliability_models import RecordingCallback, check_delivery, event_key, is_python_builtin_exception

from cpp_event_processor import EventStreamProcessor
from cpp_leaderboard import Leaderboard

T0 = 1_700_000_000
WAIT = 60  # seconds any single wait may take before the test calls it a hang


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def board_state(board) -> list:
    """Everything observable about a board's content at a fixed time."""
    return board.get_top_users(board.size() + 1)


def board_settings(board, tmp_path: Path) -> dict:
    """decay_factor and max_users as the board would save them."""
    probe = tmp_path / f"probe-{random.random()}.json"
    board.save_to_json(str(probe))
    doc = json.loads(probe.read_text(encoding="utf-8"))
    probe.unlink()
    return {"decay_factor": doc["decay_factor"], "max_users": doc["max_users"], "n": len(doc["entries"])}


def small_board(n=50, decay=0.9, max_users=1000):
    b = Leaderboard(decay_factor=decay, max_users=max_users)
    b.set_time_source(lambda: T0)
    for i in range(n):
        b.update_user(f"user{i}", float(i * 3 % 17) + 0.25, T0 - i * 600)
    return b


def snapshot_doc(n=20, decay=0.9, max_users=1000):
    return {"decay_factor": decay, "max_users": max_users,
            "entries": [{"user_id": f"u{i}", "score": float(i) + 0.5, "last_update": T0 - i}
                        for i in range(n)]}


def can_mount_tmpfs() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    d = tempfile.mkdtemp(prefix="tmpfs-probe-")
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", d], check=True)
        return ok
    finally:
        os.rmdir(d)


@contextmanager
def tmpfs(size: str):
    d = tempfile.mkdtemp(prefix="tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", d], check=True)
    try:
        yield Path(d)
    finally:
        subprocess.run(["umount", "-l", d], check=False)
        os.rmdir(d)


TMPFS = can_mount_tmpfs()


# ---------------------------------------------------------------------------------------------
# kill -9 in the middle of save_to_json
# ---------------------------------------------------------------------------------------------

SAVER = textwrap.dedent("""
    import sys
    from cpp_leaderboard import Leaderboard
    n, path, T0 = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    lb = Leaderboard(decay_factor=0.95, max_users=0)
    lb.set_time_source(lambda: T0)
    lb.update_users([(f"user{i}", float(i + 1), T0 - i) for i in range(n)])
    gen = 0
    while True:
        gen += 1
        lb.update_user("__generation__", 1.0, T0)    # its score is the generation number
        lb.save_to_json(path)
        print(gen, flush=True)                       # this generation is on disk, whole
""")

KILL_ROUNDS = int(os.environ.get("RELIABILITY_KILL_ROUNDS", "3"))


def test_kill_9_while_saving_leaves_the_previous_snapshot_loadable(tmp_path):
    """A process saving a 200K-user board in a loop is killed with SIGKILL at a random point
    (after a few complete saves, so the kill lands inside a save almost surely). The snapshot
    path must then hold a whole snapshot: the last one reported complete, or the one after."""
    n = 200_000
    path = tmp_path / "board.json"
    seed = int(os.environ.get("RELIABILITY_SEED", time.time_ns() % 2**32))
    print(f"kill -9 rounds: RELIABILITY_SEED={seed}")  # shown on failure, to replay the timings
    rnd = random.Random(seed)
    for rnd_no in range(KILL_ROUNDS):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(n), str(path), str(T0)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stamps = []
            for _ in range(3):
                line = child.stdout.readline()
                assert line, f"saver died: {child.stderr.read()}"
                stamps.append(time.monotonic())
            save_s = (stamps[-1] - stamps[0]) / 2
            time.sleep(rnd.uniform(0, 1.5 * save_s))   # the fault's timing is the variable under test
            child.send_signal(signal.SIGKILL)
            child.wait(WAIT)
            rest = child.stdout.read().split()           # generations completed meanwhile
            last_done = int(rest[-1]) if rest else 3
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        board = Leaderboard(decay_factor=0.5, max_users=1)
        board.set_time_source(lambda: T0)
        board.load_from_json(str(path))
        assert board.size() == n + 1, f"round {rnd_no}"
        gen = board.get_user_rank("__generation__")["score"]
        assert gen in (float(last_done), float(last_done + 1)), (rnd_no, gen, last_done)
        for i in (0, 1, n // 2, n - 1):
            want = (i + 1) * 0.95 ** (i / 86400)
            assert board.get_user_rank(f"user{i}")["score"] == pytest.approx(want, rel=1e-12)
        # Leftover temporary files are allowed after a kill (nobody could remove them) but must
        # never be taken for the snapshot, and there is at most the one being written.
        others = [p.name for p in tmp_path.iterdir() if p.name != path.name]
        assert len(others) <= rnd_no + 1, others
        # Evidence the kill landed inside a save: a new temporary file left behind.
        print(f"round {rnd_no}: killed after generation {last_done}, snapshot holds {int(gen)}, "
              f"{len(others)} temporary files so far")


# ---------------------------------------------------------------------------------------------
# damaged, wrong-typed and huge snapshots
# ---------------------------------------------------------------------------------------------

def assert_refused(board, path: Path, tmp_path: Path, exc_types=(ValueError,)):
    before = board_state(board)
    settings_before = board_settings(board, tmp_path)
    with pytest.raises(exc_types) as info:
        board.load_from_json(str(path))
    assert is_python_builtin_exception(info.value), type(info.value)
    assert str(path) in str(info.value) or path.name in str(info.value), \
        f"message does not name the file: {info.value}"
    assert board_state(board) == before, "a refused load changed the board"
    assert board_settings(board, tmp_path) == settings_before
    return info.value


def valid_text(n=20):
    return json.dumps(snapshot_doc(n), indent=1)


TRUNCATIONS = [0, 1, 2, 10, 30, 100, 200, -3, -2, -1]

WRONG = {
    "empty file": "",
    "whitespace": "   \n",
    "null": "null",
    "top-level list": "[]",
    "top-level string": '"x"',
    "no entries": '{"decay_factor": 0.9, "max_users": 10}',
    "entries not a list": '{"decay_factor": 0.9, "max_users": 10, "entries": {}}',
    "entry not an object": '{"decay_factor": 0.9, "max_users": 10, "entries": [1]}',
    "decay_factor a string": '{"decay_factor": "0.9", "max_users": 10, "entries": []}',
    "decay_factor zero": '{"decay_factor": 0, "max_users": 10, "entries": []}',
    "decay_factor above one": '{"decay_factor": 1.5, "max_users": 10, "entries": []}',
    "decay_factor negative": '{"decay_factor": -0.5, "max_users": 10, "entries": []}',
    "decay_factor NaN token": '{"decay_factor": NaN, "max_users": 10, "entries": []}',
    "decay_factor null": '{"decay_factor": null, "max_users": 10, "entries": []}',
    "max_users negative": '{"decay_factor": 0.9, "max_users": -1, "entries": []}',
    "max_users fractional": '{"decay_factor": 0.9, "max_users": 1.5, "entries": []}',
    "max_users bool": '{"decay_factor": 0.9, "max_users": true, "entries": []}',
    "max_users huge": '{"decay_factor": 0.9, "max_users": 1e400, "entries": []}',
    "max_users 2**64": '{"decay_factor": 0.9, "max_users": 18446744073709551616, "entries": []}',
    "user_id a number": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": 5, "score": 1.0, "last_update": 1}]}',
    "user_id null": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": null, "score": 1.0, "last_update": 1}]}',
    "score a string": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "score": "1", "last_update": 1}]}',
    "score NaN token": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "score": NaN, "last_update": 1}]}',
    "score Infinity token": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "score": Infinity, "last_update": 1}]}',
    "score overflows double": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "score": 1e400, "last_update": 1}]}',
    "last_update fractional": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "score": 1.0, "last_update": 1.5}]}',
    "last_update a string": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "score": 1.0, "last_update": "1"}]}',
    "last_update beyond int64": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "score": 1.0, "last_update": 9223372036854775808}]}',
    "entry missing score": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "last_update": 1}]}',
    "entry missing user_id": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"score": 1.0, "last_update": 1}]}',
    "duplicate user": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "score": 1.0, "last_update": 1}, {"user_id": "a", "score": 2.0, "last_update": 1}]}',
    "trailing garbage": valid_text(3) + "\n}garbage",
    "two documents": valid_text(3) + valid_text(2),
    "unclosed string": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a',
    "invalid UTF-8": None,  # bytes, below
    "comment": '// c\n{"decay_factor": 0.9, "max_users": 10, "entries": []}',
    "single quotes": "{'decay_factor': 0.9, 'max_users': 10, 'entries': []}",
}


@pytest.fixture
def victim(tmp_path):
    return small_board()


@pytest.mark.parametrize("cut", TRUNCATIONS)
def test_truncated_snapshot_is_refused(victim, tmp_path, cut):
    text = valid_text()
    path = tmp_path / f"trunc{cut}.json"
    path.write_text(text[:cut] if cut > 0 else text[:len(text) + cut] if cut < 0 else "", encoding="utf-8")
    assert_refused(victim, path, tmp_path)


@pytest.mark.parametrize("case", sorted(WRONG))
def test_wrong_snapshot_is_refused(victim, tmp_path, case):
    path = tmp_path / "wrong snapshot.json"   # a space: the name must come through whole
    if WRONG[case] is None:
        path.write_bytes(b'{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "\xff\xfe", '
                         b'"score": 1.0, "last_update": 1}]}')
    else:
        path.write_text(WRONG[case], encoding="utf-8")
    assert_refused(victim, path, tmp_path)


def test_more_entries_than_max_users_keeps_the_best(victim, tmp_path):
    """Documented result, not an error: as with updates, the lowest-ranked users past
    ``max_users`` are evicted while loading."""
    path = tmp_path / "over.json"
    path.write_text(json.dumps({"decay_factor": 1.0, "max_users": 2, "entries": [
        {"user_id": u, "score": s, "last_update": T0} for u, s in [("a", 1.0), ("b", 3.0), ("c", 2.0)]]}))
    victim.load_from_json(str(path))
    assert [e["user_id"] for e in victim.get_top_users(5)] == ["b", "c"]


def test_huge_user_id_is_refused_cleanly(victim, tmp_path):
    """A 30M-character user_id (past any sane limit) is a ValueError, not an OSError or a
    MemoryError, and the board is untouched."""
    path = tmp_path / "huge-id.json"
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "')
        f.write("x" * 30_000_000)
        f.write('", "score": 1.0, "last_update": 1}]}')
    assert_refused(victim, path, tmp_path)


def test_huge_number_is_refused_cleanly(victim, tmp_path):
    path = tmp_path / "huge-number.json"
    path.write_text('{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "score": 1'
                    + "0" * 5000 + '.0, "last_update": 1}]}', encoding="utf-8")
    assert_refused(victim, path, tmp_path)


def test_deeply_nested_unknown_field_is_refused_or_skipped(victim, tmp_path):
    """100K levels of nesting in an unknown field: refused with ValueError, or skipped as an
    unknown field; never a StackOverflowError or a crash."""
    path = tmp_path / "nested.json"
    path.write_text('{"decay_factor": 0.9, "max_users": 10, "extra": ' + "[" * 100_000 + "]" * 100_000
                    + ', "entries": [{"user_id": "a", "score": 1.0, "last_update": 1}]}', encoding="utf-8")
    before = board_state(victim)
    try:
        victim.load_from_json(str(path))
    except ValueError as exc:
        assert str(path) in str(exc)
        assert board_state(victim) == before
    else:
        assert [e["user_id"] for e in board_state(victim)] == ["a"]


def test_large_snapshot_truncated_at_the_end_leaves_the_board_whole(tmp_path):
    """A 300K-entry snapshot cut in its last entry: the board, which had other content, must be
    exactly as before (no half-replaced board after a long load)."""
    board = small_board(100)
    doc = snapshot_doc(300_000, max_users=0)
    text = json.dumps(doc)
    path = tmp_path / "big-truncated.json"
    path.write_text(text[:-10], encoding="utf-8")
    assert_refused(board, path, tmp_path)
    path.write_text(text, encoding="utf-8")
    board.load_from_json(str(path))
    assert board.size() == 300_000


def test_missing_snapshot_is_file_not_found(victim, tmp_path):
    before = board_state(victim)
    missing = tmp_path / "nope" / "missing.json"
    with pytest.raises(FileNotFoundError) as info:
        victim.load_from_json(str(missing))
    assert "missing.json" in str(info.value)
    assert board_state(victim) == before


def test_loading_a_directory_is_a_clean_error(victim, tmp_path):
    before = board_state(victim)
    with pytest.raises((OSError, ValueError)) as info:
        victim.load_from_json(str(tmp_path))
    assert is_python_builtin_exception(info.value), type(info.value)
    assert board_state(victim) == before


# ---------------------------------------------------------------------------------------------
# full disk, read-only folder
# ---------------------------------------------------------------------------------------------

def big_board(n):
    b = Leaderboard(decay_factor=0.95, max_users=0)
    b.set_time_source(lambda: T0)
    b.update_users([(f"user-with-a-longish-name-{i}", float(i), T0) for i in range(n)])
    return b


def assert_old_snapshot_kept(board, path: Path, old_bytes: bytes, exc_type=OSError):
    with pytest.raises(exc_type) as info:
        board.save_to_json(str(path))
    assert is_python_builtin_exception(info.value), type(info.value)
    assert path.read_bytes() == old_bytes, "the previous snapshot was damaged"
    fresh = Leaderboard()
    fresh.load_from_json(str(path))
    return info.value


@pytest.mark.skipif(not TMPFS, reason="needs root and mount to create a tiny tmpfs")
def test_full_disk_on_save_raises_oserror_and_keeps_the_old_file():
    with tmpfs("512k") as d:
        path = d / "board.json"
        small_board(20).save_to_json(str(path))
        old = path.read_bytes()
        assert_old_snapshot_kept(big_board(50_000), path, old)
        leftovers = [p.name for p in d.iterdir() if p.name != "board.json"]
        assert not leftovers, f"a failed save left {leftovers} behind (the disk stays full)"


def test_file_size_limit_on_save_raises_oserror_and_keeps_the_old_file(tmp_path):
    """Without root: RLIMIT_FSIZE in a subprocess makes writes past 256 KB fail with EFBIG
    (the JVM ignores SIGXFSZ), the same code path as a full disk."""
    code = textwrap.dedent(f"""
        import resource, sys
        from cpp_leaderboard import Leaderboard
        T0 = {T0}
        path = sys.argv[1] if len(sys.argv) > 1 else {str(tmp_path / 'board.json')!r}
        small = Leaderboard(decay_factor=0.9, max_users=0)
        small.set_time_source(lambda: T0)
        small.update_users([(f"u{{i}}", float(i + 1), T0) for i in range(20)])
        small.save_to_json(path)
        old = open(path, "rb").read()
        big = Leaderboard(decay_factor=0.9, max_users=0)
        big.set_time_source(lambda: T0)
        big.update_users([(f"user-with-a-longish-name-{{i}}", float(i), T0) for i in range(50_000)])
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, hard))
        try:
            big.save_to_json(path)
        except OSError as e:
            print("OSError", type(e).__name__, e)
        except BaseException as e:
            print("OTHER", type(e).__module__, type(e).__name__, e)
        else:
            print("NO ERROR")
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        print("KEPT", open(path, "rb").read() == old)
        check = Leaderboard()
        check.load_from_json(path)
        print("LOADS", check.size())
    """)
    out = run_python(code, timeout=WAIT * 2)
    assert out.returncode == 0, out.stderr
    assert "OSError" in out.stdout.splitlines()[0], out.stdout + out.stderr
    assert "KEPT True" in out.stdout
    assert "LOADS 20" in out.stdout
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "board.json"]
    assert not leftovers, f"a failed save left {leftovers} behind"


def test_read_only_folder_on_save_raises_oserror_and_keeps_the_old_file(tmp_path):
    board = small_board(30)
    if os.geteuid() == 0:
        if not TMPFS:
            pytest.skip("root ignores folder permissions and tmpfs cannot be mounted")
        with tmpfs("1m") as d:
            path = d / "board.json"
            small_board(5).save_to_json(str(path))
            old = path.read_bytes()
            subprocess.run(["mount", "-o", "remount,ro", str(d)], check=True)
            assert_old_snapshot_kept(board, path, old)
    else:
        d = tmp_path / "ro"
        d.mkdir()
        path = d / "board.json"
        small_board(5).save_to_json(str(path))
        old = path.read_bytes()
        d.chmod(0o555)
        try:
            assert_old_snapshot_kept(board, path, old, PermissionError)
        finally:
            d.chmod(0o755)


def test_save_into_a_missing_folder_or_onto_a_directory(tmp_path):
    board = small_board(5)
    with pytest.raises(FileNotFoundError):
        board.save_to_json(str(tmp_path / "no" / "such" / "dir" / "b.json"))
    with pytest.raises(OSError) as info:
        board.save_to_json(str(tmp_path))
    assert is_python_builtin_exception(info.value), type(info.value)
    assert tmp_path.is_dir()


def test_concurrent_saves_to_one_path_each_leave_a_whole_snapshot(tmp_path):
    """Eight threads save different boards to the same path at once (temporary names must not
    collide); meanwhile a reader keeps loading it: every load sees one whole snapshot."""
    path = tmp_path / "shared.json"
    boards = [small_board(200 + 100 * k) for k in range(8)]
    sizes = {b.size() for b in boards}
    boards[0].save_to_json(str(path))
    stop = threading.Event()
    errors = []

    def saver(b):
        try:
            for _ in range(5):
                b.save_to_json(str(path))
        except BaseException as exc:
            errors.append(exc)

    def reader():
        r = Leaderboard()
        try:
            while not stop.is_set():
                r.load_from_json(str(path))
                assert r.size() in sizes
        except BaseException as exc:
            errors.append(exc)

    rt = threading.Thread(target=reader)
    rt.start()
    ts = [threading.Thread(target=saver, args=(b,)) for b in boards]
    for t in ts:
        t.start()
    for t in ts:
        t.join(WAIT)
    stop.set()
    rt.join(WAIT)
    assert not errors, errors
    assert [p.name for p in tmp_path.iterdir()] == ["shared.json"]


# ---------------------------------------------------------------------------------------------
# fork
# ---------------------------------------------------------------------------------------------

FORK = textwrap.dedent("""
    import os, sys, json
    from cpp_event_processor import EventStreamProcessor
    from cpp_leaderboard import Leaderboard
    got = []
    proc = EventStreamProcessor(1024, 2, 10, 50)
    proc.set_flush_callback(lambda evs: got.extend(evs))
    lb = Leaderboard()
    lb.update_user("a", 1.0, 0)
    for i in range(5):
        proc.push_event("message", f"u{i}", "c", 0)
    calls = {
        "Leaderboard()": lambda: Leaderboard(),
        "EventStreamProcessor()": lambda: EventStreamProcessor(8, 1, 1, 10),
        "lb.update_user": lambda: lb.update_user("b", 1.0, 0),
        "lb.update_users": lambda: lb.update_users([("b", 1.0, 0)]),
        "lb.get_top_users": lambda: lb.get_top_users(5),
        "lb.get_user_rank": lambda: lb.get_user_rank("a"),
        "lb.size": lambda: lb.size(),
        "lb.remove_user": lambda: lb.remove_user("a"),
        "lb.get_rank_range": lambda: lb.get_rank_range(1, 2),
        "lb.get_users_around": lambda: lb.get_users_around("a", 1),
        "lb.get_current_time": lambda: lb.get_current_time(),
        "lb.set_time_source": lambda: lb.set_time_source(lambda: 5),
        "lb.save_to_json": lambda: lb.save_to_json("/tmp/streamrank-fork-child.json"),
        "lb.load_from_json": lambda: lb.load_from_json("/tmp/streamrank-fork-child.json"),
        "proc.push_event": lambda: proc.push_event("message", "x", "c", 0),
        "proc.set_time_source": lambda: proc.set_time_source(lambda: 5),
        "proc.get_current_time": lambda: proc.get_current_time(),
        "proc.redrive_failed": lambda: proc.redrive_failed(),
        "proc.discard_failed": lambda: proc.discard_failed(),
        "proc.set_flush_callback": lambda: proc.set_flush_callback(print),
        "proc.flush_now": lambda: proc.flush_now(),
        "proc.get_unique_users_last_hour": lambda: proc.get_unique_users_last_hour(),
        "proc.get_top_channels": lambda: proc.get_top_channels(3),
        "proc.total_events_processed": lambda: proc.total_events_processed(),
        "proc.events_dropped": lambda: proc.events_dropped(),
        "proc.pending_events": lambda: proc.pending_events(),
        "proc.total_events_flushed": lambda: proc.total_events_flushed(),
        "proc.failed_batches": lambda: proc.failed_batches(),
        "proc.close": lambda: proc.close(),
    }
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        res = {}
        for name, fn in calls.items():
            try:
                v = fn()
                res[name] = "returned " + repr(v)[:60]
            except RuntimeError as e:
                res[name] = "RuntimeError" if "fork" in str(e) else "RuntimeError without fork: " + str(e)
            except BaseException as e:
                res[name] = f"{type(e).__name__}: {e}"
        os.write(w, json.dumps(res).encode())
        os.close(w)
        sys.exit(0)   # a normal exit (atexit included) must not hang or deliver anything
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    _, status = os.waitpid(pid, 0)
    print("CHILD", data.decode())
    print("EXIT", os.waitstatus_to_exitcode(status))
    proc.push_event("message", "after-fork", "c", 0)
    proc.flush_now()
    print("PARENT", sorted(e["user_id"] for e in got))
    lb.update_user("c", 2.0, 0)
    print("PARENT_LB", lb.size())
    proc.close()
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_every_call_in_a_forked_child_raises_runtime_error():
    out = run_python(FORK, timeout=WAIT * 2)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    child = json.loads(lines["CHILD"])
    bad = {k: v for k, v in child.items() if v != "RuntimeError"}
    assert not bad, f"calls in a forked child that did not raise RuntimeError: {bad}"
    assert lines["EXIT"] == "0"
    assert lines["PARENT"] == str(sorted(["u0", "u1", "u2", "u3", "u4", "after-fork"]))
    assert lines["PARENT_LB"] == "2"


# ---------------------------------------------------------------------------------------------
# a callback that never returns
# ---------------------------------------------------------------------------------------------

def run_in_thread(fn, *args):
    """Runs fn in a thread; returns a join function that fails the test on a hang."""
    box = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()

    def join():
        t.join(WAIT)
        assert not t.is_alive(), f"{getattr(fn, '__name__', fn)} hung"
        if "error" in box:
            raise box["error"]
        return box.get("value")
    return join


def test_a_callback_that_never_returns_fills_the_buffer_without_deadlock():
    gate, entered = threading.Event(), threading.Event()
    delivered = []

    def stuck(events):
        entered.set()
        gate.wait()
        delivered.extend(events)

    buffer_size = 64
    proc = EventStreamProcessor(buffer_size, 1, 8, 10)
    proc.set_flush_callback(stuck)
    accepted, refused = [], 0
    for i in range(10_000):
        ev = ("message", f"p0-{i}", "c", T0)
        if proc.push_event(*ev):
            accepted.append(ev)
        else:
            refused += 1
        if refused >= 100:
            break
    assert entered.wait(WAIT)
    # The buffer bounds accepted-but-undelivered events; once full, pushes are False.
    assert len(accepted) <= buffer_size
    assert refused >= 100
    assert proc.events_dropped() == refused
    # A bounded flush reports the stuck callback instead of waiting forever.
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        proc.flush_now(timeout=0.2)
    assert time.monotonic() - t0 < WAIT
    msg = str(info.value)
    assert "0.2" in msg or "timeout" in msg.lower() or "timed out" in msg.lower(), msg
    # Everything else keeps answering while the callback is stuck.
    for query in (proc.total_events_processed, proc.events_dropped, proc.pending_events,
                  proc.get_unique_users_last_hour, lambda: proc.get_top_channels(3),
                  proc.total_events_flushed):
        run_in_thread(query)()
    # An unbounded flush waits; releasing the callback lets it return with everything delivered.
    waiting = run_in_thread(proc.flush_now)
    gate.set()
    waiting()
    assert sorted(event_key(e) for e in delivered) == sorted(accepted)
    # And the processor is healthy again.
    assert proc.push_event("message", "p0-late", "c", T0)
    proc.flush_now()
    assert delivered[-1]["user_id"] == "p0-late"
    proc.close()


def test_close_with_a_stuck_callback_at_interpreter_exit_does_not_hang():
    """A callback blocked forever at exit: the interpreter still exits (bounded wait), and the
    events that could not be delivered are reported rather than silently lost."""
    out = run_python(textwrap.dedent("""
        import threading, logging
        logging.basicConfig(level=logging.WARNING)
        from cpp_event_processor import EventStreamProcessor
        gate = threading.Event()
        proc = EventStreamProcessor(64, 1, 4, 10)
        proc.set_flush_callback(lambda evs: gate.wait())
        for i in range(20):
            proc.push_event("message", f"u{i}", "c", 0)
        print("exiting", flush=True)
    """), timeout=WAIT * 2)
    assert "exiting" in out.stdout
    assert out.returncode == 0, out.stderr
    assert "undelivered" in out.stderr or "not delivered" in out.stderr, out.stderr


# ---------------------------------------------------------------------------------------------
# interpreter exit with events pending
# ---------------------------------------------------------------------------------------------

EXIT_WITH_PENDING = textwrap.dedent("""
    import sys, threading
    from cpp_event_processor import EventStreamProcessor
    out = open(sys.argv[1], "w", encoding="utf-8")
    def write(events):
        for e in events:
            out.write(e["user_id"] + "\\n")
        out.flush()
    # Nothing would go out on its own before exit: a huge batch and a one-minute interval.
    proc = EventStreamProcessor(100_000, 2, 50_000, 60_000)
    proc.set_flush_callback(write)
    for i in range(20_000):
        assert proc.push_event("message", f"u{i}", f"c{i % 7}", 0)
    how = sys.argv[2]
    if how == "exception":
        raise SystemExit("leaving with an error")
    if how == "thread":
        t = threading.Thread(target=lambda: [proc.push_event("message", f"t{i}", "c", 0) for i in range(1000)])
        t.start(); t.join()
""")


@pytest.mark.parametrize("how", ["normal", "exception", "thread"])
def test_interpreter_exit_delivers_pending_events(tmp_path, how):
    sink = tmp_path / "delivered.txt"
    proc = subprocess.run([sys.executable, "-c", EXIT_WITH_PENDING, str(sink), how],
                          capture_output=True, text=True, timeout=WAIT * 2)
    assert proc.returncode == (1 if how == "exception" else 0), proc.stderr
    got = sink.read_text(encoding="utf-8").split()
    want = [f"u{i}" for i in range(20_000)] + ([f"t{i}" for i in range(1000)] if how == "thread" else [])
    assert sorted(got) == sorted(want), f"{len(got)} of {len(want)} delivered"


# ---------------------------------------------------------------------------------------------
# hostile callbacks and lifecycles
# ---------------------------------------------------------------------------------------------

def fast_processor(buffer_size=1024, threads=2, batch=16, interval=5, retries=3):
    return EventStreamProcessor(buffer_size, threads, batch, interval, max_retries=retries, retry_backoff_ms=1)


def push_n(proc, n, prefix="p0"):
    accepted = []
    for i in range(n):
        ev = ("message", f"{prefix}-{i}", f"c{i % 3}", T0 + i)
        if proc.push_event(*ev):
            accepted.append(ev)
    return accepted


def test_a_callback_that_mutates_its_batch_then_fails_gets_it_back_whole():
    """The first attempt clears the list and scribbles on the dicts, then raises: the retry must
    still carry the original events."""
    seen = []
    calls = {"n": 0}

    def vandal(events):
        calls["n"] += 1
        if calls["n"] <= 2:
            for e in events:
                e["user_id"] = "scribbled"
            events.clear()
            raise RuntimeError("vandal")
        seen.append(list(events))

    proc = fast_processor(threads=1, batch=1000, interval=1000)
    proc.set_flush_callback(vandal)
    accepted = push_n(proc, 50)
    proc.flush_now()
    check_delivery(accepted, seen, [], 1000)
    proc.close()


@pytest.mark.parametrize("exc_type", [SystemExit, KeyboardInterrupt, GeneratorExit, MemoryError])
def test_a_callback_raising_base_exceptions_does_not_kill_the_workers(exc_type):
    """SystemExit/KeyboardInterrupt from a callback count as a failed attempt; the worker threads
    survive and the batch is retried and delivered."""
    seen = []
    raised = {"n": 0}

    def cb(events):
        if raised["n"] < 2:
            raised["n"] += 1
            raise exc_type("from the callback")
        seen.append(list(events))

    proc = fast_processor(threads=1)
    proc.set_flush_callback(cb)
    accepted = push_n(proc, 40)
    run_in_thread(proc.flush_now)()
    more = push_n(proc, 40, prefix="p1")
    run_in_thread(proc.flush_now)()
    check_delivery(accepted + more, seen, [], 16)
    proc.close()


def test_a_callback_that_pushes_more_events_does_not_deadlock():
    """Each batch pushes one follow-up event from inside the callback (a worker thread), with a
    tiny buffer so some of those pushes meet a full buffer: they return False, never block."""
    seen, follow_ups = [], []
    lock = threading.Lock()

    def cb(events):
        with lock:
            seen.append(list(events))
            n = len(follow_ups)
        if n < 200:
            # Two worker threads push follow-ups concurrently, so only each thread's own pushes
            # form an ordered sequence: name the producer after the thread.
            ev = ("follow-up", f"p9t{threading.get_ident()}-{n}", "c", T0)
            ok = proc.push_event(*ev)
            with lock:
                follow_ups.append((ev, ok))

    proc = fast_processor(buffer_size=8, threads=2, batch=4, interval=1)
    proc.set_flush_callback(cb)
    accepted = push_n(proc, 300)
    for _ in range(3):
        run_in_thread(proc.flush_now)()
    assert run_in_thread(proc.close)() in (True, None)
    extra = [ev for ev, ok in follow_ups if ok]
    check_delivery(accepted + extra, seen, [], 4)


def test_flush_now_and_close_from_inside_a_callback_raise_instead_of_deadlocking():
    errors = []

    def cb(events):
        for fn in (proc.flush_now, proc.close):
            try:
                fn()
            except RuntimeError as exc:
                errors.append(str(exc))
            else:
                errors.append("returned")

    proc = fast_processor(threads=1)
    proc.set_flush_callback(cb)
    proc.push_event("message", "u", "c", T0)
    run_in_thread(proc.flush_now)()
    assert len(errors) == 2 and "returned" not in errors, errors
    proc.close()


def test_concurrent_close_while_producers_push_loses_nothing():
    """Producers push while three threads close at once: close is idempotent, every push that
    returned True is delivered, pushes after the close return False."""
    got = RecordingCallback()
    proc = fast_processor(buffer_size=1 << 14, threads=2, batch=64)
    proc.set_flush_callback(got)
    start = threading.Barrier(6)
    accepted = [[] for _ in range(3)]

    def producer(k):
        start.wait()
        for i in range(20_000):
            ev = ("message", f"p{k}-{i}", "c", T0)
            if proc.push_event(*ev):
                accepted[k].append(ev)

    def closer():
        start.wait()
        proc.close()

    joins = [run_in_thread(producer, k) for k in range(3)] + [run_in_thread(closer) for _ in range(3)]
    for j in joins:
        j()
    check_delivery([e for a in accepted for e in a], got.batches, [], 64)
    assert proc.total_events_processed() == sum(map(len, accepted))
    assert proc.push_event("message", "late", "c", T0) is False


def test_a_processor_dropped_without_close_still_delivers():
    """No close(), no reference kept: the finalizer delivers what was accepted."""
    import gc
    done = threading.Event()
    got = []

    def cb(events):
        got.extend(events)
        if len(got) >= 100:
            done.set()

    proc = fast_processor(batch=1000, interval=60_000)
    proc.set_flush_callback(cb)
    accepted = push_n(proc, 100)
    assert len(accepted) == 100
    del proc
    gc.collect()
    assert done.wait(WAIT), f"{len(got)} of 100 delivered after the processor was dropped"
    assert sorted(event_key(e) for e in got) == sorted(accepted)
