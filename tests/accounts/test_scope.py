import pytest

from accounts.models import Role
from accounts.scope import region_prefix
from govmap.models import Region
from halls.models import Hall, StaffPost
from halls.scope import scope_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions():
    p = Region.objects.create(adcode="520000", name="贵州省", level="province")
    gy = Region.objects.create(adcode="520100", name="贵阳市", level="city", parent=p)
    zy = Region.objects.create(adcode="520300", name="遵义市", level="city", parent=p)
    nm = Region.objects.create(adcode="520102", name="南明区", level="county", parent=gy)
    hhg = Region.objects.create(adcode="520302", name="红花岗区", level="county", parent=zy)
    return {"p": p, "gy": gy, "zy": zy, "nm": nm, "hhg": hhg}


def test_region_prefix():
    assert region_prefix("520000") == "52"
    assert region_prefix("520300") == "5203"
    assert region_prefix("520302") == "520302"


def test_supervisor_scopes(regions, make_user):
    province = scope_for(make_user(Role.SUPERVISOR, region=regions["p"]))
    zunyi = scope_for(make_user(Role.SUPERVISOR, region=regions["zy"]))
    assert province.covers_region("520102") and province.covers_region("520302")
    assert zunyi.covers_region("520302") and not zunyi.covers_region("520102")
    assert set(Region.objects.filter(zunyi.region_q("adcode")).values_list("adcode", flat=True)) == {"520300", "520302"}


def test_clerk_scope_is_their_halls(regions, make_user):
    hall = Hall.objects.create(
        code="H1", name="红花岗", type="comprehensive", level="county", region=regions["hhg"], lat=27.7, lon=106.9
    )
    clerk = make_user(Role.WINDOW_CLERK)
    StaffPost.objects.create(user=clerk, hall=hall)
    scope = scope_for(clerk)
    assert scope.hall_ids == frozenset({hall.pk})
    assert not scope.covers_region("520302")  # clerks see their halls' cases, not a whole region


def test_anonymous_and_inactive_see_nothing(regions, make_user):
    user = make_user(Role.SUPERVISOR, region=regions["p"], is_active=False)
    assert not scope_for(user).covers_region("520102")
    assert not scope_for(None).covers_region("520102")


def test_admin_without_region_sees_everything(make_user):
    assert scope_for(make_user(Role.ADMIN)).everything
