"""Suite-wide test settings."""

from hypothesis import settings

# The suite runs on two busy cores: wall-clock deadlines would make property tests flaky
# without testing anything about correctness.
settings.register_profile("botrygt", deadline=None)
settings.load_profile("botrygt")
