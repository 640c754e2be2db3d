"""Placeholder until the event processor lands (issue 3)."""


class EventStreamProcessor:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("EventStreamProcessor is not implemented yet")
