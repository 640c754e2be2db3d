"""DJANGO_INTEGRATION.md section 6 ("Testing Integration"), as written."""
# tests/test_cpp_integration.py
import pytest
from cpp_event_processor import EventStreamProcessor
from cpp_leaderboard import Leaderboard

@pytest.fixture
def test_processor():
    return EventStreamProcessor(
        buffer_size=128,
        num_threads=1,
        batch_size=10,
        flush_interval_ms=100
    )

def test_event_ingestion(test_processor):
    events_collected = []
    test_processor.set_flush_callback(lambda e: events_collected.extend(e))
    
    for i in range(50):
        assert test_processor.push_event("message", f"user{i}", "channel1", 1000 + i)
    
    test_processor.flush_now()
    assert len(events_collected) == 50
