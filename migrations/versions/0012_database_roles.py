"""Roles the database enforces: group roles, grants, an append-only trail, agency scopes.

PostgreSQL (on SQLite only ``operators.agency_id`` is added: an embedded register is one desk):

* Group roles ``tokenfleet_viewer``, ``tokenfleet_operator``, ``tokenfleet_admin``,
  ``tokenfleet_poller`` carry the privileges, and ``tokenfleet_scoped`` marks a login limited
  to one agency's subtree. Roles are cluster-wide: they are created once (idempotently, so
  several registers on one server share them) and never dropped by a downgrade.
* Grants: every group reads everything; operators and admins write the register, except that
  only admins edit agencies and operators (and retire devices: a trigger); a poller records
  observations, last-seen and PIN state and lock moves; nobody but the owner deletes devices,
  holders, certificates or handovers. Default privileges give tables added by later
  migrations the same general rule (read for all, write for operators and admins).
* The trail: no role may UPDATE, DELETE or TRUNCATE ``events`` or move ``audit_head`` back
  (statement triggers that refuse, naming the role, for the owner too); every event a role
  inserts must name ``session_user`` as its actor, except the owner's bulk paths (demo).
* Row-level security: a member of ``tokenfleet_scoped`` sees and changes only its agency's
  subtree of devices, holders, requests (and their items), handovers, unlock cases, alerts
  and the events of those devices (and its own). The scope is computed once per statement
  (``(SELECT tokenfleet_scope())`` becomes an init plan) and compared with indexed
  ``agency_id`` columns; tables without one reach it through their device or request by
  primary key. Unscoped roles get no extra condition at all.
* ``tokenfleet_set_login`` / ``tokenfleet_disable_login``: SECURITY DEFINER functions, run by
  admins, that create or alter a LOGIN role and its group (admins need no CREATEROLE).
* Existing operators (the ``operators`` table) become login roles with the same roles.

Revision ID: 0012_database_roles
Revises: 0013_holder_keys
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_database_roles"
down_revision: str | None = "0013_holder_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("viewer", "operator", "admin", "poller")
GROUPS = tuple(f"tokenfleet_{r}" for r in ROLES)
SCOPED = "tokenfleet_scoped"
ALL_GROUPS = ", ".join(GROUPS)
WRITERS = "tokenfleet_operator, tokenfleet_admin"

# Written by the app, never by a role: the schema's revision.
OWNER_ONLY = ("alembic_version",)
# Only admins edit these.
ADMIN_WRITES = ("agencies", "agency_history", "operators")
# Evidence nobody but the owner deletes.
NEVER_DELETED = ("devices", "holders", "certificates", "handovers", "events", "audit_head")
POLLER_GRANTS = (
    "INSERT ON events",
    "UPDATE ON audit_head",
    "UPDATE (status, lock_count, status_changed_at, version, last_seen_at, last_seen_reader, "
    "last_seen_host, pin_tries_left, pin_blocked) ON devices",
    "INSERT, UPDATE (status) ON certificates",
    "INSERT, UPDATE ON unlock_cases",
    "INSERT, UPDATE, DELETE ON observations",
    "INSERT, UPDATE, DELETE ON station_readers",
    "INSERT, UPDATE ON unregistered_devices",
    "INSERT, UPDATE ON stocktake_items",
)

SCOPE = "(SELECT tokenfleet_scope())"
IN_SCOPE = f"agency_id = ANY ({SCOPE}::integer[])"
# table -> which of its rows are in the scope
SCOPED_TABLES = {
    # "+ 0": a filter, never an index condition. The device list walks pages in id order and
    # stops at a page; offered the policy as an index condition with a parameter it cannot
    # estimate, the planner fetched a whole subtree and sorted it for every page (measured at
    # 1M devices: 27 s for a subtree's full list instead of 6). Counts add the subtree's
    # agency ids themselves (inventory.fleet.queries), so they still read the index.
    "devices": f"(agency_id + 0) = ANY ({SCOPE}::integer[])",
    "holders": IN_SCOPE,
    "service_requests": IN_SCOPE,
    "unlock_cases": IN_SCOPE,
    "alert_ledger": IN_SCOPE,
    # Rows of a visible device / request. EXISTS, not IN: the planner then picks per statement
    # between probing the parent's primary key for a few rows (a device's history) and hashing
    # the scope's rows once for many (a report), instead of always hashing the whole scope.
    "handovers": "EXISTS (SELECT 1 FROM public.devices d WHERE d.id = handovers.device_id)",
    "service_request_items": "EXISTS (SELECT 1 FROM public.service_requests r "
                             "WHERE r.id = service_request_items.request_id)",
    "events": "actor = session_user::text OR EXISTS (SELECT 1 FROM public.devices d "
              "WHERE d.id = events.device_id)",
}

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION tokenfleet_is_owner() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_has_role(session_user, c.relowner, 'MEMBER')
    FROM pg_class c WHERE c.oid = 'public.events'::regclass
$$;

-- The agencies a scoped login may see: its agency and everything under it (empty when it has
-- none, so a scoped login without an agency sees nothing).
CREATE OR REPLACE FUNCTION tokenfleet_scope() RETURNS integer[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(a.id), '{}') FROM public.agencies a
    WHERE a.path LIKE (SELECT s.path || '%' FROM public.operators o
                       JOIN public.agencies s ON s.id = o.agency_id
                       WHERE o.name = session_user::text AND o.active)
$$;

-- The chain's last position before an instant and its hash (a month's seal), whoever asks: a
-- scoped login sees only part of the trail, but a seal is of the whole chain. It reveals
-- nothing but a position and a hash.
CREATE OR REPLACE FUNCTION tokenfleet_chain_before(p_instant timestamptz)
RETURNS TABLE (seq integer, hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.seq, e.hash::text FROM public.events e
    WHERE e.seq = (SELECT max(m.seq) FROM public.events m WHERE m.occurred_at < p_instant)
$$;

CREATE OR REPLACE FUNCTION tokenfleet_refuse_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % may not % %', session_user,
        lower(TG_OP), TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION tokenfleet_head_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.last_seq < OLD.last_seq THEN
        RAISE EXCEPTION 'the audit trail is append-only: % may not move its head back from % to %',
            session_user, OLD.last_seq, NEW.last_seq USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION tokenfleet_check_actor() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    other text;
BEGIN
    SELECT actor INTO other FROM new_events WHERE actor IS DISTINCT FROM session_user::text
    LIMIT 1;
    IF FOUND AND NOT public.tokenfleet_is_owner() THEN
        RAISE EXCEPTION 'connected as %: an audit event must name who is connected, not %',
            session_user, coalesce(other, 'nobody') USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tokenfleet_check_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_has_role(session_user, 'tokenfleet_admin', 'USAGE') OR public.tokenfleet_is_owner() THEN
        RETURN NEW;
    END IF;
    IF NEW.status = 'retired' THEN
        RAISE EXCEPTION '% may not retire device %: admins only', session_user, NEW.serial
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT pg_has_role(session_user, 'tokenfleet_operator', 'USAGE')
            AND NOT (OLD.status = 'issued' AND NEW.status = 'locked') THEN
        RAISE EXCEPTION '% may only mark a device locked, not move device % from % to %',
            session_user, NEW.serial, OLD.status, NEW.status
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION tokenfleet_manageable(p_name text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    IF p_name IS NULL OR btrim(p_name) = '' OR octet_length(p_name) > 63 THEN
        RAISE EXCEPTION 'a login name needs 1 to 63 bytes, not %', coalesce(p_name, 'nothing')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_name LIKE 'pg\_%' OR p_name LIKE 'tokenfleet\_%' THEN
        RAISE EXCEPTION '% is a reserved role name', p_name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO r FROM pg_roles WHERE rolname = p_name;
    IF FOUND AND (r.rolsuper OR r.rolcreaterole OR r.rolbypassrls OR r.rolreplication
                  OR pg_has_role(p_name, (SELECT relowner FROM pg_class
                                          WHERE oid = 'public.events'::regclass), 'MEMBER')) THEN
        RAISE EXCEPTION 'role % administers the database or owns the register: tokenfleet does '
            'not manage it', p_name USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION tokenfleet_set_membership(p_name text, p_group text, p_member boolean)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    is_member boolean;
BEGIN
    SELECT EXISTS (SELECT 1 FROM pg_auth_members m
                   JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
                   WHERE g.rolname = p_group AND u.rolname = p_name) INTO is_member;
    IF p_member AND NOT is_member THEN
        EXECUTE format('GRANT %I TO %I', p_group, p_name);
    ELSIF is_member AND NOT p_member THEN
        EXECUTE format('REVOKE %I FROM %I', p_group, p_name);
    END IF;
END $$;

-- Create or alter the LOGIN role p_name as a member of exactly one tokenfleet group.
-- p_verifier is a SCRAM-SHA-256 verifier computed by the client (never the password itself).
CREATE OR REPLACE FUNCTION tokenfleet_set_login(p_name text, p_role text, p_scoped boolean,
                                                p_verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text;
BEGIN
    IF p_role IS NULL OR p_role NOT IN ('viewer', 'operator', 'admin', 'poller') THEN
        RAISE EXCEPTION 'role % is not one of viewer, operator, admin, poller',
            coalesce(p_role, 'nothing') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM public.tokenfleet_manageable(p_name);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_name) THEN
        EXECUTE format('ALTER ROLE %I LOGIN', p_name);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN', p_name);
    END IF;
    FOREACH g IN ARRAY ARRAY['viewer', 'operator', 'admin', 'poller'] LOOP
        PERFORM public.tokenfleet_set_membership(p_name, 'tokenfleet_' || g, g = p_role);
    END LOOP;
    PERFORM public.tokenfleet_set_membership(p_name, 'tokenfleet_scoped',
                                             coalesce(p_scoped, false));
    IF p_verifier IS NOT NULL THEN
        IF p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
            RAISE EXCEPTION 'a password must be given as a SCRAM-SHA-256 verifier'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        EXECUTE format('ALTER ROLE %I PASSWORD %L', p_name, p_verifier);
    END IF;
END $$;

-- Take a login away: no more connections, and open sessions lose every tokenfleet privilege.
CREATE OR REPLACE FUNCTION tokenfleet_disable_login(p_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text;
BEGIN
    PERFORM public.tokenfleet_manageable(p_name);
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_name) THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER ROLE %I NOLOGIN', p_name);
    FOREACH g IN ARRAY ARRAY['viewer', 'operator', 'admin', 'poller', 'scoped'] LOOP
        PERFORM public.tokenfleet_set_membership(p_name, 'tokenfleet_' || g, false);
    END LOOP;
END $$;
"""

FUNCTION_NAMES = ("tokenfleet_chain_before(timestamptz)",
                  "tokenfleet_set_login(text, text, boolean, text)",
                  "tokenfleet_disable_login(text)", "tokenfleet_set_membership(text, text, boolean)",
                  "tokenfleet_manageable(text)", "tokenfleet_check_move()",
                  "tokenfleet_check_actor()", "tokenfleet_head_forward()",
                  "tokenfleet_refuse_rewrite()", "tokenfleet_scope()", "tokenfleet_is_owner()")

TRIGGERS = (
    ("events_append_only", "events",
     "BEFORE UPDATE OR DELETE OR TRUNCATE ON events FOR EACH STATEMENT "
     "EXECUTE FUNCTION tokenfleet_refuse_rewrite()"),
    ("events_actor", "events",
     "AFTER INSERT ON events REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT "
     "EXECUTE FUNCTION tokenfleet_check_actor()"),
    ("audit_head_forward", "audit_head",
     "BEFORE UPDATE ON audit_head FOR EACH ROW EXECUTE FUNCTION tokenfleet_head_forward()"),
    ("audit_head_kept", "audit_head",
     "BEFORE DELETE OR TRUNCATE ON audit_head FOR EACH STATEMENT "
     "EXECUTE FUNCTION tokenfleet_refuse_rewrite()"),
    ("devices_moves", "devices",
     "BEFORE UPDATE OF status ON devices FOR EACH ROW "
     "WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION tokenfleet_check_move()"),
)


def _create_group_roles() -> None:
    for group in (*GROUPS, SCOPED):
        # Idempotent and safe against another register's migration creating it at the same time.
        op.execute(f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{group}') THEN
                CREATE ROLE {group} NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$""")


def _grant() -> None:
    op.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC")
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ALL_GROUPS}")
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {WRITERS}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON {', '.join(OWNER_ONLY)} FROM {WRITERS}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON {', '.join(ADMIN_WRITES)} "
               "FROM tokenfleet_operator")
    op.execute(f"REVOKE DELETE ON {', '.join(NEVER_DELETED)} FROM {WRITERS}")
    op.execute(f"REVOKE UPDATE ON events FROM {WRITERS}")
    op.execute(f"REVOKE INSERT ON audit_head FROM {WRITERS}")
    for grant in POLLER_GRANTS:
        op.execute(f"GRANT {grant} TO tokenfleet_poller")
    op.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "
               f"{WRITERS}, tokenfleet_poller")
    # Tables and sequences later migrations add: readable by all, written by operators/admins.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {ALL_GROUPS}")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT, UPDATE, DELETE ON TABLES "
               f"TO {WRITERS}")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "
               f"{WRITERS}, tokenfleet_poller")
    op.execute("REVOKE ALL ON FUNCTION tokenfleet_set_login(text, text, boolean, text), "
               "tokenfleet_disable_login(text), tokenfleet_set_membership(text, text, boolean) "
               "FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION tokenfleet_set_login(text, text, boolean, text), "
               "tokenfleet_disable_login(text) TO tokenfleet_admin")
    op.execute("REVOKE ALL ON FUNCTION tokenfleet_chain_before(timestamptz) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION tokenfleet_chain_before(timestamptz) TO {ALL_GROUPS}")


def _row_security() -> None:
    for table, in_scope in SCOPED_TABLES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tokenfleet_rows ON {table} AS PERMISSIVE FOR ALL TO PUBLIC "
                   "USING (true) WITH CHECK (true)")
        op.execute(f"CREATE POLICY tokenfleet_agency_scope ON {table} AS RESTRICTIVE FOR ALL "
                   f"TO {SCOPED} USING ({in_scope}) WITH CHECK ({in_scope})")


def _logins_for_operators() -> None:
    """Today's operators become login roles with the same roles (those that cannot — a name
    that is a database administrator's, or too long — are left as they are, with a warning)."""
    op.execute("""DO $$ DECLARE o record; BEGIN
        FOR o IN SELECT name, role FROM operators WHERE active ORDER BY id LOOP
            BEGIN
                PERFORM public.tokenfleet_set_login(o.name, o.role, false, NULL);
            EXCEPTION WHEN others THEN
                RAISE WARNING 'operator % was not made a login role: %', o.name, SQLERRM;
            END;
        END LOOP;
    END $$""")


def upgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agency_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_operators_agency_id_agencies"), "agencies",
                                    ["agency_id"], ["id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    _create_group_roles()
    op.execute(FUNCTIONS)
    for name, _table, definition in TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} {definition}")
    _grant()
    _row_security()
    _logins_for_operators()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in SCOPED_TABLES:
            op.execute(f"DROP POLICY IF EXISTS tokenfleet_agency_scope ON {table}")
            op.execute(f"DROP POLICY IF EXISTS tokenfleet_rows ON {table}")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        for name, table, _definition in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES "
                   f"FROM {ALL_GROUPS}")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES "
                   f"FROM {ALL_GROUPS}")
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ALL_GROUPS}")
        op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ALL_GROUPS}")
        # The group and login roles stay: roles are shared by every database on the server.
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_operators_agency_id_agencies"),
                                 type_="foreignkey")
        batch_op.drop_column("agency_id")
