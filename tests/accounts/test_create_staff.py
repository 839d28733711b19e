import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role, User
from govmap.models import Region
from halls.models import Hall, StaffPost, Window
from services.models import Department, DepartmentKind

PASSWORD = "Tongban-test-2026!\n"


@pytest.fixture
def place(db):
    province = Region.objects.create(adcode="520000", name="贵州省", level="province")
    city = Region.objects.create(adcode="520300", name="遵义市", level="city", parent=province)
    county = Region.objects.create(adcode="520302", name="红花岗区", level="county", parent=city)
    hall = Hall.objects.create(
        code="520302-C01",
        name="红花岗区政务服务中心",
        type="comprehensive",
        level="county",
        region=county,
        lat=27.69,
        lon=106.92,
    )
    Window.objects.create(hall=hall, number="1", tongban_intake=True, general_intake=True)
    kind = DepartmentKind.objects.create(code="gongan", name="公安")
    dept = Department.objects.create(code="520302-gongan", name="红花岗区公安分局", kind=kind, region=county)
    return {"hall": hall, "dept": dept, "city": city}


def run(monkeypatch, *args, password=PASSWORD):
    monkeypatch.setattr("sys.stdin", io.StringIO(password))
    out = io.StringIO()
    call_command("create_staff", *args, stdout=out)
    return out.getvalue()


def test_clerk_at_window(place, monkeypatch):
    out = run(monkeypatch, "li", "--role", "window_clerk", "--hall", "520302-C01", "--window", "1", "--password-stdin")
    assert "已创建" in out
    user = User.objects.get(username="li")
    assert user.role == Role.WINDOW_CLERK and user.check_password(PASSWORD.strip())
    post = StaffPost.objects.get(user=user)
    assert post.hall == place["hall"] and post.window.number == "1"


def test_approver_and_supervisor(place, monkeypatch):
    run(monkeypatch, "wang", "--role", "approver", "--department", "520302-gongan", "--password-stdin")
    assert User.objects.get(username="wang").department == place["dept"]
    run(monkeypatch, "zhao", "--role", "supervisor", "--region", "520300", "--password-stdin")
    assert User.objects.get(username="zhao").region == place["city"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["x", "--role", "window_clerk", "--password-stdin"], "--hall"),
        (["x", "--role", "window_clerk", "--hall", "NOPE", "--password-stdin"], "NOPE"),
        (["x", "--role", "window_clerk", "--hall", "520302-C01", "--window", "9", "--password-stdin"], "9 号窗口"),
        (["x", "--role", "approver", "--password-stdin"], "--department"),
        (["x", "--role", "approver", "--department", "bad", "--password-stdin"], "bad"),
        (["x", "--role", "supervisor", "--password-stdin"], "--region"),
        (["x", "--role", "supervisor", "--region", "999999", "--password-stdin"], "999999"),
        (["x", "--role", "admin"], "--password-stdin"),
    ],
)
def test_bad_input_creates_nothing(place, monkeypatch, args, needle):
    before = User.objects.count()
    with pytest.raises(CommandError) as exc:
        run(monkeypatch, *args)
    assert needle in str(exc.value)
    assert User.objects.count() == before
    assert not StaffPost.objects.exists()


def test_weak_password_and_duplicate(place, monkeypatch):
    with pytest.raises(CommandError, match="password"):
        run(monkeypatch, "x", "--role", "admin", "--password-stdin", password="123\n")
    run(monkeypatch, "dup", "--role", "admin", "--password-stdin")
    with pytest.raises(CommandError, match="已存在"):
        run(monkeypatch, "dup", "--role", "admin", "--password-stdin")
    assert User.objects.filter(username="dup").count() == 1


def test_citizen_role_refused(place, monkeypatch):
    with pytest.raises(CommandError):
        run(monkeypatch, "c", "--role", "citizen", "--password-stdin")
