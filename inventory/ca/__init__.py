"""The CA layer: what the register holds of the certification authority, and how the register
compares with it.

    anchors     trust anchors (root and intermediate CA certificates the office trusts)
    chains      path validation of certificate files against the anchors (cryptography)
    crls        import a CA's revocation list, keep the newest per issuer
    kinds       the four kinds of mismatch, by name (no cryptography: front ends list them)
    reconcile   the four kinds of mismatch between the register and the CA
    ocsp        ask the CA's responder about one device's certificate
    net         HTTP with a deadline (CRL download, OCSP)

It sits beside ``inventory.desk`` above ``inventory.fleet``; the alert rules, the services, the
CLI, the TUI and the reports call it. The package itself imports none of its modules: a front end
that only names the kinds does not load cryptography (the TUI's first screen waits for what it
imports).
"""
