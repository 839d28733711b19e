"""The security tests reuse the ratings fixtures (a delivered case to rate, the wf world)."""

from tests.ratings.conftest import deliver, make_ticket, online_delivered  # noqa: F401
