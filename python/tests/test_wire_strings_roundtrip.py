"""Joined strings sections (Packer.put_joined_strings -> PackedReader.readStrings), with their
fallback to lengths, and single reply strings that contain a separator character."""
import pytest

from streamrank import _errors, _jvm, _wire


@pytest.fixture(scope="module")
def echo_separated():
    _jvm.start()
    return _jvm.jclass("io.streamrank.bridge.WireCheck").echoStrings


def roundtrip(echo, strings):
    p = _wire.Packer(capacity=32)  # small: exercises growth
    p.put_joined_strings(strings)
    u = _wire.Unpacker(echo(p.jbuffer, p.pos))
    got = u.read_strings()
    assert u.pos == len(u._data)
    return got


@pytest.mark.parametrize("strings", [
    [],
    [""],
    ["", ""],
    ["a", "", "b"],
    ["123456789012345678"] * 512,
    ["caf\xe9", "\xff"],
    ["\U0001F600 emoji", "\u4e2d\u6587", "lone \ud800 high", "\udc00"],
    ["only\x1fone"],                      # a single string is never split
    ["has\x1f", "other"],                 # first separator taken: falls to the next
    ["\x1f", "\x1e", "\x1d", "\x1c"],     # every candidate taken: explicit lengths
    ["\x1f\x1e\x1d\x1c\u4e2d", "x"],      # same, UTF-16
    ["x" * 100_000, "y"],
])
def test_strings_come_back_unchanged(echo_separated, strings):
    assert roundtrip(echo_separated, strings) == strings


def test_tuples_are_accepted(echo_separated):
    assert roundtrip(echo_separated, ("a", "b")) == ["a", "b"]


def test_a_truncated_section_is_a_value_error(echo_separated):
    p = _wire.Packer()
    p.put_joined_strings(["abc", "def"])
    with pytest.raises(_errors.JException) as info:
        echo_separated(p.jbuffer, p.pos - 1)
    assert isinstance(_errors.translate(info.value), ValueError)


def test_unpacker_does_not_split_a_single_string_holding_the_separator():
    _jvm.start()
    echo = _jvm.jclass("io.streamrank.bridge.WireCheck").echo
    p = _wire.Packer()
    p.put_strings(["a\x1fb"])  # PackedWriter replies with separator 0x1f for one string
    p.put_int(0)
    u = _wire.Unpacker(echo(p.jbuffer, p.pos))
    assert u.read_strings() == ["a\x1fb"]
