from tests.licences.helpers import on_commit, signing_keys  # noqa: F401
