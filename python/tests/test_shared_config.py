"""streamrank.shared.resolve(): the switch, from the environment or Django settings."""
from __future__ import annotations

import pytest

from streamrank import shared


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    monkeypatch.delenv("STREAMRANK_SHARED", raising=False)
    monkeypatch.delenv("STREAMRANK_NAMESPACE", raising=False)


def test_embedded_by_default():
    assert shared.resolve() is None


def test_environment_switch_and_namespace(monkeypatch):
    monkeypatch.setenv("STREAMRANK_SHARED", "redis://127.0.0.1:6380/2")
    c = shared.resolve()
    assert c.url == "redis://127.0.0.1:6380/2" and c.namespace == "streamrank"
    monkeypatch.setenv("STREAMRANK_NAMESPACE", "shop")
    c = shared.resolve()
    assert c.namespace == "shop"
    assert c.key("lb", "default", "log") == "shop:lb:default:log"


def test_empty_environment_value_means_embedded(monkeypatch):
    monkeypatch.setenv("STREAMRANK_SHARED", "  ")
    assert shared.resolve() is None


@pytest.mark.parametrize("bad", ["http://x:1/0", "redis://", "redis://h:99999/0", "redis://h:1/db"])
def test_bad_urls_name_their_source(monkeypatch, bad):
    monkeypatch.setenv("STREAMRANK_SHARED", bad)
    with pytest.raises(ValueError, match="STREAMRANK_SHARED"):
        shared.resolve()


def test_bad_namespace(monkeypatch):
    monkeypatch.setenv("STREAMRANK_SHARED", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("STREAMRANK_NAMESPACE", "has space")
    with pytest.raises(ValueError, match="STREAMRANK_NAMESPACE"):
        shared.resolve()


def test_bad_object_names():
    c = shared.SharedConfig("redis://127.0.0.1:6379/0", "ns")
    with pytest.raises(TypeError, match="name"):
        c.key("lb", 3, "log")
    with pytest.raises(ValueError, match="name"):
        c.key("lb", "a:b", "log")


def test_django_settings(python_subprocess):
    pytest.importorskip("django")
    # In a child: configuring Django settings here would leak into other tests.
    code = """
import os
from django.conf import settings
settings.configure(STREAMRANK={"SHARED": "redis://127.0.0.1:6379/3", "NAMESPACE": "web"})
from streamrank import shared
c = shared.resolve()
assert (c.url, c.namespace) == ("redis://127.0.0.1:6379/3", "web"), c
os.environ["STREAMRANK_SHARED"] = ""          # the environment wins over settings
assert shared.resolve() is None
del os.environ["STREAMRANK_SHARED"]
settings.STREAMRANK = {"SHARED": 5}
try:
    shared.resolve()
except TypeError as e:
    assert 'STREAMRANK["SHARED"]' in str(e), e
else:
    raise AssertionError("no TypeError")
from streamrank.django import streamrank_settings
settings.STREAMRANK = {"SHARED": "redis://127.0.0.1:6379/0", "NAMESPACE": "x"}
assert streamrank_settings()["SHARED"] == "redis://127.0.0.1:6379/0"   # known keys
print("ok")
"""
    r = python_subprocess(code)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
