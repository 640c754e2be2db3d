"""The JVM bridge: lazy start, joining a foreign JVM, configuration, fork safety, error mapping."""
import os
import sys
import textwrap

import pytest

from conftest import run_python

import streamrank
from streamrank import _errors, _jvm, _wire


def test_importing_the_modules_does_not_start_the_jvm():
    out = run_python(textwrap.dedent("""
        import jpype, streamrank, cpp_event_processor, cpp_leaderboard
        import streamrank._wire, streamrank._errors
        print(jpype.isJVMStarted(), streamrank.jvm_started())
    """))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_start_loads_the_matching_core_version():
    _jvm.start()
    assert streamrank.jvm_started()
    assert str(_jvm.jclass("io.streamrank.Version").get()) == streamrank.__version__


def test_joins_a_jvm_another_library_started_without_our_jar():
    out = run_python(textwrap.dedent("""
        import jpype
        jpype.startJVM(classpath=[])          # someone else's JVM, no streamrank jar
        from streamrank import _jvm
        _jvm.start()
        print(_jvm.jclass("io.streamrank.Version").get(), _jvm.STATE.loader is not None)
    """))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [streamrank.__version__, "True"]


def test_heap_and_extra_options_come_from_the_environment():
    out = run_python(textwrap.dedent("""
        from streamrank import _jvm
        _jvm.start()
        import jpype
        rt = jpype.JClass("java.lang.Runtime").getRuntime()
        print(rt.maxMemory() // (1024 * 1024), jpype.JClass("java.lang.System").getProperty("streamrank.probe"))
    """), env={"STREAMRANK_JVM_HEAP": "200m", "STREAMRANK_JVM_OPTS": "-Dstreamrank.probe='a b'"})
    assert out.returncode == 0, out.stderr
    heap_mb, probe = out.stdout.split(maxsplit=1)
    assert int(heap_mb) <= 200
    assert probe.strip() == "a b"


def test_a_missing_java_is_a_clear_error():
    out = run_python(textwrap.dedent("""
        from streamrank import _jvm
        try:
            _jvm.start()
        except RuntimeError as e:
            print("RuntimeError:", e)
    """), env={"STREAMRANK_JAVA_HOME": "/nonexistent/java"})
    assert out.returncode == 0, out.stderr
    assert "RuntimeError:" in out.stdout
    assert "Java runtime 17" in out.stdout and "STREAMRANK_JAVA_HOME" in out.stdout


def test_a_missing_jar_is_a_clear_error():
    out = run_python(textwrap.dedent("""
        from streamrank import _jvm
        try:
            _jvm.start()
        except RuntimeError as e:
            print("RuntimeError:", e)
    """), env={"STREAMRANK_JAR": "/nonexistent/streamrank-core.jar"})
    assert "core jar is missing" in out.stdout, out.stderr


FORK_AFTER_START = """
import os, sys
from streamrank import _jvm
_jvm.start()
pid = os.fork()
if pid == 0:
    try:
        _jvm.jclass("io.streamrank.Version").get()
        print("child: no error", flush=True)
    except RuntimeError as e:
        print("child: RuntimeError:", e, flush=True)
    sys.exit(0)          # a normal exit, atexit handlers included: must not hang
_, status = os.waitpid(pid, 0)
print("parent: child exit", os.waitstatus_to_exitcode(status))
print("parent: still works", _jvm.jclass("io.streamrank.Version").get())
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_after_the_jvm_started_gets_a_clear_error():
    out = run_python(FORK_AFTER_START, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "child: RuntimeError:" in out.stdout
    assert "preload_app" in out.stdout
    assert "parent: child exit 0" in out.stdout
    assert f"parent: still works {streamrank.__version__}" in out.stdout


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_before_the_jvm_started_works():
    out = run_python(textwrap.dedent("""
        import os, sys
        from streamrank import _jvm
        pid = os.fork()
        if pid == 0:
            _jvm.start()
            print("child:", _jvm.jclass("io.streamrank.Version").get(), flush=True)
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        print("parent: child exit", os.waitstatus_to_exitcode(status))
    """), timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"child: {streamrank.__version__}" in out.stdout
    assert "parent: child exit 0" in out.stdout


class TestErrorMapping:
    def setup_method(self):
        _jvm.start()

    def _raise(self, fn):
        import jpype
        try:
            fn(jpype)
        except _errors.JException as exc:
            return _errors.translate(exc)
        raise AssertionError("no Java exception")

    def test_illegal_argument_is_value_error(self):
        err = self._raise(lambda j: j.JClass("java.lang.Integer").parseInt("x1"))
        assert type(err) is ValueError and "x1" in str(err)

    def test_file_not_found(self):
        err = self._raise(lambda j: j.JClass("java.io.FileInputStream")("/nonexistent/snap.json"))
        assert isinstance(err, FileNotFoundError) and "/nonexistent/snap.json" in str(err)

    def test_null_pointer_is_type_error(self):
        err = self._raise(lambda j: j.JClass("java.util.Objects").requireNonNull(None, "user_id is None"))
        assert type(err) is TypeError and str(err) == "user_id is None"

    def test_illegal_state_is_runtime_error_without_java_trace(self, monkeypatch):
        monkeypatch.delenv("STREAMRANK_DEBUG", raising=False)
        err = self._raise(lambda j: j.JClass("java.util.ArrayList")().iterator().remove())
        assert type(err) is RuntimeError
        assert "at java." not in str(err)

    def test_debug_mode_appends_the_java_stack_trace(self, monkeypatch):
        monkeypatch.setenv("STREAMRANK_DEBUG", "1")
        err = self._raise(lambda j: j.JClass("java.lang.Integer").parseInt("x1"))
        assert "Java stack trace" in str(err) and "at java.base/java.lang.Integer.parseInt" in str(err)

    def test_call_helper_raises_the_python_type(self):
        import jpype
        with pytest.raises(ValueError):
            _errors.call(jpype.JClass("java.lang.Integer").parseInt, "nope")

    def test_non_java_exceptions_pass_through(self):
        err = KeyError("k")
        assert _errors.translate(err) is err


class TestWire:
    def setup_method(self):
        _jvm.start()
        self.echo = _jvm.jclass("io.streamrank.bridge.WireCheck").echo

    def roundtrip(self, strings, longs=(), doubles=()):
        p = _wire.Packer(capacity=64)  # small: exercises growth
        p.put_strings(strings)
        p.put_int(len(longs))
        p.put_longs(longs)
        p.put_doubles(doubles)
        u = _wire.Unpacker(self.echo(p.jbuffer, p.pos))
        got = (u.read_longs(len(longs)), u.read_doubles(len(doubles)), u.read_strings())
        assert u.pos == len(u._data)
        return got

    @pytest.mark.parametrize("strings", [
        [],
        [""],
        ["a", "", "b"],
        ["message", "123456789012345678", "chan\x00nel"],
        ["caf\xe9", "\xff"],
        ["\U0001F600 emoji", "\u4e2d\u6587", "lone \ud800 high", "\udc00"],
        ["\x1f\x1e\x1d\x1c", "sep\x1f"],
        ["x" * 100_000, "y"],
    ])
    def test_strings_come_back_unchanged(self, strings):
        assert self.roundtrip(strings)[2] == strings

    def test_numbers_come_back_exactly(self):
        longs = [-(2**63), -1, 0, 1, 2**63 - 1]
        doubles = [-0.0, 5e-324, 0.1, 1e308, float("-inf")]
        got_l, got_d, _ = self.roundtrip(["k"], longs, doubles)
        assert got_l == longs
        assert [repr(x) for x in got_d] == [repr(x) for x in doubles]

    def test_every_bmp_character_falls_back_to_lengths(self):
        everything = "".join(chr(c) for c in range(1, 0x10000) if not 0xD800 <= c <= 0xDFFF)
        strings = [everything, "tail", ""]
        assert self.roundtrip(strings)[2] == strings

    def test_a_truncated_buffer_is_a_value_error_not_a_crash(self):
        p = _wire.Packer()
        p.put_strings(["abc"])
        with pytest.raises(_errors.JException) as info:
            self.echo(p.jbuffer, p.pos - 1)
        assert isinstance(_errors.translate(info.value), ValueError)
