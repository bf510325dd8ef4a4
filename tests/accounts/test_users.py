import pytest

from muster.accounts.models import ApiToken
from muster.accounts.services import Refused, add_user, new_token, user_for_token
from muster.audit.models import AuditEntry
from muster.audit.services import Actor

pytestmark = pytest.mark.django_db
SYS = Actor.system("test")
PW = "correct horse battery"


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"role": "emperor"}, "role.unknown"),
        ({"role": "clerk"}, "office.missing"),
        ({"role": "clerk", "office": "99-99"}, "office.unknown"),
        ({"role": "citizen"}, "national_id.missing"),
        ({"role": "citizen", "national_id": "12345678900"}, "national_id.checksum"),
        ({"role": "auditor", "national_id": "11223344595"}, "national_id.unexpected"),
        ({"role": "auditor", "password": "short"}, "password.weak"),
    ],
)
def test_refusals_name_the_reason(now, kw, code):
    password = kw.pop("password", PW)
    role = kw.pop("role")
    with pytest.raises(Refused) as exc:
        add_user("u", role, password, actor=SYS, now=now, **kw)
    assert exc.value.code == code


def test_tokens_are_stored_hashed(now):
    user = add_user("a", "auditor", PW, actor=SYS, now=now)
    token = new_token(user, actor=SYS, now=now)
    assert not ApiToken.objects.filter(key_hash=token).exists()
    assert user_for_token(token) == user
    assert user_for_token(token + "x") is None
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["user.add", "user.token"]
