"""The package as a user gets it: a py3-none-any wheel that carries the jar and works from a
fresh virtualenv with nothing but the wheel and its dependencies."""
import subprocess
import sys
import textwrap
import venv
import zipfile

import pytest

from conftest import ROOT

pytestmark = pytest.mark.packaging

USE_BOTH_MODULES = textwrap.dedent("""
    import jpype, streamrank, cpp_event_processor, cpp_leaderboard
    assert not jpype.isJVMStarted()
    from streamrank import _jvm
    _jvm.start()
    print("jar", _jvm.STATE.jar)
    print("version", _jvm.jclass("io.streamrank.Version").get())
""")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True, timeout=900,
    )
    (built,) = out.glob("streamrank-*.whl")
    return built


def test_wheel_is_pure_python_and_carries_the_shaded_jar(wheel):
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "streamrank/jars/streamrank-core.jar" in names
        assert "cpp_event_processor/__init__.py" in names
        assert "cpp_leaderboard/apps.py" in names
        jar_bytes = zf.read("streamrank/jars/streamrank-core.jar")
    import io
    with zipfile.ZipFile(io.BytesIO(jar_bytes)) as jar:
        classes = jar.namelist()
    assert "io/streamrank/Version.class" in classes
    # Jackson and JCTools are relocated under our package, never at their own names.
    assert any(n.startswith("io/streamrank/shaded/jackson/") for n in classes)
    assert any(n.startswith("io/streamrank/shaded/jctools/") for n in classes)
    assert not any(n.startswith(("com/fasterxml/", "org/jctools/")) for n in classes)


def test_wheel_installs_and_runs_in_a_fresh_venv(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=600)
    out = subprocess.run([str(py), "-c", USE_BOTH_MODULES], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"version 0.1.0" in out.stdout
    assert str(env_dir) in out.stdout  # the jar is found inside site-packages
