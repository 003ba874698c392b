"""Every code tokenfleet writes has a Vietnamese and an English label, and no two codes of one
domain read the same."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import string
from pathlib import Path

import pytest

import inventory
from inventory.alerts.rules import RULE_ORDER
from inventory.ca.reconcile import KINDS as CA_KINDS
from inventory.desk.requests import DOSSIER, STEPS
from inventory.desk.unlock_desk import UNLOCK_METHODS
from inventory.fleet.lifecycle import MOVES
from inventory.register import models
from inventory.register.errors import TokenfleetError
from inventory.register.models.alerts import RUN_OUTCOMES
from inventory.vocabulary import DOMAINS, MESSAGES, Vocabulary
from inventory.vocabulary.terms import DOCUMENT

ROOT = Path(__file__).resolve().parents[2]

ENUMERATIONS: dict[str, tuple[str, ...]] = {
    "device_kind": models.DEVICE_KINDS,
    "device_status": models.DEVICE_STATUSES,
    "device_action": tuple(MOVES),
    "certificate_status": models.CERTIFICATE_STATUSES,
    "handover_method": models.HANDOVER_METHODS,
    "unlock_method": UNLOCK_METHODS,
    "unlock_source": models.UNLOCK_SOURCES,
    "unlock_outcome": models.UNLOCK_OUTCOMES,
    "request_kind": models.REQUEST_KINDS,
    "request_form": models.REQUEST_KINDS,
    "request_state": models.REQUEST_STATES,
    "request_step": tuple(STEPS),
    "document": tuple(sorted({doc.key for docs in DOSSIER.values() for doc in docs})),
    "alert_rule": models.ALERT_RULES + RULE_ORDER,
    "alert_state": models.ALERT_STATES,
    "alert_run_outcome": RUN_OUTCOMES,
    "agency_kind": models.AGENCY_KINDS,
    "role": models.ROLES,
    "stocktake_state": models.STOCKTAKE_STATES,
    "ca_mismatch": CA_KINDS,
}


@pytest.mark.parametrize("domain", sorted(ENUMERATIONS))
def test_every_code_of_every_enumeration_has_both_labels(domain: str) -> None:
    missing = [code for code in ENUMERATIONS[domain] if code not in DOMAINS[domain]]
    assert missing == [], f"{domain}: no label for {missing}"


def test_labels_are_real_words_and_distinct_within_a_domain() -> None:
    for domain, labels in DOMAINS.items():
        for lang_index, lang in enumerate(("vi", "en")):
            words = [entry[lang_index] for entry in labels.values()]
            assert all(w and w == w.strip() for w in words), (domain, lang)
            assert len(set(words)) == len(words), f"{domain} ({lang}): two codes read the same"
            assert not set(words) & set(labels), f"{domain} ({lang}): a label is a raw code"


def test_the_request_form_is_a_document_of_every_kind() -> None:
    assert {d.key for docs in DOSSIER.values() for d in docs} <= set(DOCUMENT)
    assert all(any(d.key == "don_de_nghi" for d in docs) for docs in DOSSIER.values())


def _load_all_modules() -> None:
    for info in pkgutil.walk_packages(inventory.__path__, "inventory."):
        if ".hardware" in info.name:  # reader libraries may be absent; their errors load below
            continue
        importlib.import_module(info.name)
    importlib.import_module("inventory.readers.hardware")


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    return found | {s for c in found for s in _subclasses(c)}


def test_every_error_heading_is_in_both_languages() -> None:
    _load_all_modules()
    titled = {c for c in _subclasses(TokenfleetError) | {TokenfleetError}
              if c.__module__.startswith("inventory.") and "title" in vars(c)}
    assert len(titled) > 10  # the scan works
    missing = sorted(c.__name__ for c in titled if c.__name__ not in DOMAINS["error_title"])
    assert missing == []
    names = {c.__name__ for c in _subclasses(TokenfleetError) | {TokenfleetError}}
    stale = sorted(set(DOMAINS["error_title"]) - names)
    assert stale == []  # a heading for a class that is gone (AlertDeliveryError was one)


# --- audit events ------------------------------------------------------------------------------

ACTION = re.compile(r"^([a-z]+(?:_[a-z]+)*)\.[a-z]+(?:_[a-z]+)*$")
# f-strings that build an action: the prefix, and the codes its placeholder takes
BUILT_ACTIONS = {"device.": tuple(MOVES), "request.": tuple(STEPS)}


def _call_name(node: ast.Call) -> str | None:
    return getattr(node.func, "attr", None) or getattr(node.func, "id", None)


def _source_trees() -> list[tuple[str, ast.AST]]:
    out: list[tuple[str, ast.AST]] = []
    for path in sorted((ROOT / "inventory").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if not rel.startswith("inventory/vocabulary/"):
            out.append((rel, ast.parse(path.read_text(encoding="utf-8"))))
    return out


def written_event_actions() -> tuple[set[str], list[str]]:
    """Every action the code writes into the audit trail, and the f-strings it cannot expand.

    Actions passed as ``action="…"`` (to ``audit.record`` and its helpers), as a parameter's
    default ``action: str = "…"``, or as the first argument of ``EventDraft``, fix the
    prefixes; every other string ``<prefix>.<word>`` (``_event(…, "device.lock", …)``) is an
    action too. An f-string with such a prefix must be one ``BUILT_ACTIONS`` knows how to expand.
    """
    trees = _source_trees()
    actions: set[str] = set()
    prefixes: set[str] = set()
    for _, tree in trees:
        for node in ast.walk(tree):
            values: list[ast.AST] = []
            if isinstance(node, ast.Call):
                values += [k.value for k in node.keywords if k.arg == "action"]
                if _call_name(node) == "EventDraft" and node.args:
                    values.append(node.args[0])
                    if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                        prefixes.add(str(node.args[1].value))
                values += [k.value for k in node.keywords if k.arg == "entity_type"]
            elif isinstance(node, ast.arguments):
                named = node.args[len(node.args) - len(node.defaults):] + node.kwonlyargs
                defaults = list(node.defaults) + list(node.kw_defaults)
                values += [d for a, d in zip(named, defaults, strict=True)
                           if a.arg == "action" and d is not None]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    if match := ACTION.match(value.value):
                        actions.add(value.value)
                        prefixes.add(match.group(1))
                    else:
                        prefixes.add(value.value)  # an entity_type
    unexpanded: list[str] = []
    for rel, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = ACTION.match(node.value)
                if match and match.group(1) in prefixes:
                    actions.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                head = node.values[0]
                if (isinstance(head, ast.Constant) and isinstance(head.value, str)
                        and head.value.endswith(".") and head.value[:-1] in prefixes
                        and len(node.values) == 2):
                    if head.value in BUILT_ACTIONS:
                        actions |= {head.value + code for code in BUILT_ACTIONS[head.value]}
                    else:
                        unexpanded.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    return actions, unexpanded


def test_every_event_action_written_anywhere_has_both_labels() -> None:
    actions, unexpanded = written_event_actions()
    assert unexpanded == [], "teach BUILT_ACTIONS what these f-strings write"
    assert {"device.add", "device.issue", "certificate.renew", "unlock_case.open",
            "request.submit", "unregistered.claim", "alert.ack"} <= actions  # the scan works
    missing = sorted(actions - set(DOMAINS["event"]))
    assert missing == [], f"add to EVENT in inventory/vocabulary/terms.py: {missing}"


# --- sentences ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_sentences_have_the_same_facts_in_both_languages(key: str) -> None:
    def fields(template: str) -> set[tuple[str, str]]:
        return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template)
                if name is not None}

    vi, en = MESSAGES[key]
    assert fields(vi) == fields(en)
    for _, spec in fields(vi):
        assert spec in ("", "n", "date", "datetime") or spec.rstrip("+") in DOMAINS, (key, spec)


def test_an_unknown_code_shows_as_itself_and_none_as_nothing() -> None:
    vi = Vocabulary("vi")
    assert vi.term("device_status", "locked") == "Bị khóa"
    assert vi.term("device_status", "melted") == "melted"
    assert vi.term("device_status", None) == ""
    with pytest.raises(KeyError):
        vi.term("no_such_domain", "x")
    with pytest.raises(ValueError):
        Vocabulary("fr")


def _template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_sentence_an_error_names_exists_and_gets_its_facts() -> None:
    """``raise SomeError("…", key="k", fact=…)`` anywhere in inventory/: "k" is a sentence of
    MESSAGES, and the raise passes every fact the sentence needs."""
    used: dict[str, str] = {}
    for rel, tree in _source_trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node) or ""
            if not (name.endswith("Error") or name == "__init__"):  # raise X(…) / super().__init__
                continue
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            value = keywords.pop("key", None)
            if isinstance(value, ast.IfExp):
                value = value.body
            if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                continue
            where = f"{rel}:{node.lineno}"
            used[value.value] = where
            assert value.value in MESSAGES, f"{where}: no sentence {value.value!r} in MESSAGES"
            missing = _template_fields(MESSAGES[value.value][0]) - set(keywords)
            assert not missing, f"{where}: {value.value!r} needs the facts {sorted(missing)}"
    assert len(used) > 15  # the scan works
    # a sentence that is no refusal (what a CA mismatch means) is named by the code that says it
    named = {node.value for _, tree in _source_trees() for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert sorted(set(MESSAGES) - set(used) - named) == [], "sentences no code names"


def test_every_kind_and_status_label_reads_back_through_the_import() -> None:
    """A workbook tokenfleet wrote (in either language) imports again: the import knows every
    label the vocabulary gives a device kind or status."""
    from inventory.register import checks

    for code, labels in DOMAINS["device_kind"].items():
        assert all(checks.kind_word(text) == code for text in labels), code
    for code, labels in DOMAINS["device_status"].items():
        assert all(checks.status(text) == code for text in labels), code
