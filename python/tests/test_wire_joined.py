"""The joined strings section (Packer.put_joined_strings) against Java's PackedReader."""
import pytest

from streamrank import _jvm, _wire


def echo(strings, joined=True):
    """Round-trips through io.streamrank.bridge.WireCheck.echo (strings, then n=0 numbers)."""
    _jvm.start()
    packer = _wire.Packer(64)
    if joined:
        packer.put_joined_strings(strings)
    else:
        packer.put_strings(strings)
    packer.put_int(0)
    reply = _jvm.jclass("io.streamrank.bridge.WireCheck").echo(packer.jbuffer, packer.pos)
    return _wire.Unpacker(reply).read_strings()


CASES = [
    [],
    [""],
    ["", ""],
    ["message", "123456789012345678", "caf\u00e9"],
    ["nul\x00inside", "\x1e\x1d\x1c", "\u4f60\u597d", "emoji \U0001F600", "lone \ud800", "\udfff"],
    ["x" * 100_000, "y"],
]


@pytest.mark.parametrize("strings", CASES)
def test_joined_strings_round_trip(strings):
    assert echo(strings) == strings


def test_a_string_holding_the_separator_falls_back_to_lengths():
    strings = ["a\x1fb", "c", ""]
    packer = _wire.Packer(64)
    packer.put_joined_strings(strings)
    assert _wire._INT.unpack_from(packer._buf, 4)[0] in (_wire.LATIN1, _wire.UTF16)
    assert echo(strings) == strings


def test_joined_strings_pick_utf16_only_when_needed():
    packer = _wire.Packer(64)
    packer.put_joined_strings(["caf\u00e9", "x"])
    assert _wire._INT.unpack_from(packer._buf, 4)[0] == _wire.LATIN1_JOINED
    packer.reset()
    packer.put_joined_strings(["\u20ac", "x"])
    assert _wire._INT.unpack_from(packer._buf, 4)[0] == _wire.UTF16_JOINED


def test_put_struct_and_unpack_from_share_the_buffer():
    import struct
    st = struct.Struct("=qi")
    packer = _wire.Packer(16)
    packer.put_int(7)
    at = packer.put_struct(st, -5, 9)
    assert at == 4 and packer.pos == 16
    assert packer.unpack_from(st, 4) == (-5, 9)
