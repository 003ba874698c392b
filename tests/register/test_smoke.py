from inventory import audit
from inventory.queries import count_devices


def test_demo_register_is_alive_and_chained(demo_register):
    with demo_register.read() as session:
        assert count_devices(session) == 300
        assert audit.verify(session).events > 300
