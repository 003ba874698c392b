"""The one service layer: every command and every figure a front end shows.

The CLI (``inventory.cli``) and the TUI (``tui``) both call these functions; each front end only
parses input and shows results. The conventions, after cosmicpython's service layer:

- A service takes what it needs explicitly: the ``Register``, the ``actor`` (keyword) for a
  change, and plain parameters. It opens its own transaction: ``register.session()`` for a
  change (one transaction, its audit events included), ``register.read()`` for a read.
- It returns a typed read model (a frozen dataclass), never a dict or an ORM row, so the TUI's
  thread workers can hand the result to the UI thread.
- It raises the project's errors (``inventory.register.errors``); the CLI maps them to exit
  codes, the TUI shows them in place.
- It is synchronous: the TUI calls it from its thread workers.

    devices        device detail; add, issue, move (with the stale-screen guard), renew
    holders        holders and agencies: add, edit, rename, merge; the agency tree and its
                   device counts (own, and with sub-agencies)
    dashboard      the dashboard's figures and this month's events
    alerts         the alert ledger, the job's heartbeat, acknowledge and snooze
    unregistered   devices pollers saw that the register does not know; claim one
    transfers      import a sheet, back up, restore
    desk           the service desk: certification requests (file, dossier, submit, complete,
                   reject, cancel, the CA's answer, figures), handovers (list, received,
                   printable records) and the unlock desk (lock, bring in, unlock, turnaround)
    stations       the one reader pipeline (poll and the readers screen), every station's
                   readers, the devices of the cards in them

Reports (``reports``) and the TUI sit above this layer, the CLI on top (``docs/architecture.md``).
"""
