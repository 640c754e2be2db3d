"""A short tour of both modules, exactly as DJANGO_INTEGRATION.md uses them."""
import time

import cpp_event_processor
import cpp_leaderboard

processor = cpp_event_processor.EventStreamProcessor(
    buffer_size=16384, num_threads=4, batch_size=500, flush_interval_ms=1000
)
delivered = []
processor.set_flush_callback(lambda events: delivered.extend(events))
now = int(time.time())
for i in range(2000):
    processor.push_event(event_type="message", user_id=f"user{i % 50}",
                         channel_id=f"channel{i % 7}", timestamp=now)
processor.flush_now()
print(f"processor: {processor.total_events_processed()} processed, {len(delivered)} delivered, "
      f"{processor.events_dropped()} dropped")
print(f"  unique users last hour: {processor.get_unique_users_last_hour()}")
print(f"  top channels: {processor.get_top_channels(3)}")
print(f"  first event delivered: {delivered[0]}")

leaderboard = cpp_leaderboard.Leaderboard(decay_factor=0.95, max_users=100000)
for i in range(1000):
    leaderboard.update_user(user_id=f"user{i}", points=float(i % 97), timestamp=now - (i % 30) * 86400)
print(f"leaderboard: {leaderboard.size()} users")
for entry in leaderboard.get_top_users(3):
    print(f"  {entry}")
print(f"  rank of user500: {leaderboard.get_user_rank('user500')}")
processor.close()
