from tests.licences.helpers import delivered, on_commit, signing_keys  # noqa: F401
