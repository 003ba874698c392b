"""The demo city's typed certificates reconcile like real ones: the issuer's canonical key and,
for revoked ones, when the register revoked them."""

from __future__ import annotations

from sqlalchemy import func, select

from inventory.demo import city as demo
from inventory.fleet.certificates import name_key_of_text
from inventory.register.db import Register
from inventory.register.models import Certificate
from tests.conftest import FIXED_NOW


def test_demo_certificates_carry_issuer_key_and_revocation_time(register: Register) -> None:
    with register.session() as s:
        demo.generate(s.connection(), devices=150, seed=5, now=FIXED_NOW)
    with register.read() as s:
        keys = set(s.scalars(select(Certificate.issuer_key).distinct()))
        assert keys == {name_key_of_text(demo.CA_ISSUER)}
        revoked = s.execute(select(func.count(), func.count(Certificate.revoked_at))
                            .where(Certificate.status == "revoked")).one()
        assert revoked[0] > 0 and revoked[0] == revoked[1]
        assert s.scalar(select(func.count()).where(Certificate.status != "revoked",
                                                   Certificate.revoked_at.is_not(None))) == 0
