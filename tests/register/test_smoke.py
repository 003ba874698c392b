from inventory.fleet.queries import count_devices
from inventory.register import audit


def test_demo_register_is_alive_and_chained(demo_register):
    with demo_register.read() as session:
        assert count_devices(session) == 300
        assert audit.verify(session).events > 300
