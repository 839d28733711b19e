import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["rating", "rectification", "appeal"])
def test_ratings_admin_is_read_only(admin_client, model):
    resp = admin_client.get(f"/admin/ratings/{model}/")
    assert resp.status_code == 200
    assert admin_client.get(f"/admin/ratings/{model}/add/").status_code == 403
