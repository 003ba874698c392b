"""The request, handover and unlock commands as a user runs them, on both backends."""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from inventory.cli import exit_codes
from inventory.register.errors import ImportFileError, MoveNotAllowedError, ValidationError


@pytest.fixture
def url(office, db_url) -> str:
    return db_url


def test_batch_from_a_file_through_export_answer_and_printed_records(url, tokenfleet, tmp_path):
    batch = tmp_path / "danh_sach.csv"
    with batch.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Họ và tên", "Chức vụ", "Số CCCD", "Email", "Điện thoại"])
        for n in range(1, 4):
            w.writerow([f"Hồ Thị Lan {n}", "Văn thư", f"04809700000{n}", f"lan{n}@x.vn",
                        "0905111222"])
    code, out, err = tokenfleet("--db", url, "request", "new", "--kind",
                         "new_issuance", "--agency", "SYT", "--subscribers", str(batch),
                         "--doc", "don_de_nghi", "--doc", "danh_sach_thue_bao")
    assert code == 0, err
    rid = out.split("#")[1].split()[0]
    assert "documents missing: ban_sao_cccd, cong_van" in out
    code, _, err = tokenfleet("--db", url, "request", "submit", rid)
    assert code == exit_codes.for_error(ValidationError) and "dossier is missing" in err
    assert tokenfleet("--db", url, "request", "attach", rid, "ban_sao_cccd", "cong_van")[0] == 0
    assert tokenfleet("--db", url, "request", "submit", rid, "--external-ref", "9/SYT")[0] == 0
    code, out, _ = tokenfleet("--db", url, "request", "list", "--state", "submitted",
                       "--format", "json")
    assert [r["id"] for r in json.loads(out)] == [int(rid)]
    intake = tmp_path / "intake.xlsx"
    code, out, _ = tokenfleet("--db", url, "request", "export", "-o", str(intake),
                       "--show-id-numbers")
    assert code == 0 and "3 subscriber(s)" in out
    rows = CalamineWorkbook.from_path(str(intake)).get_sheet_by_index(0).to_python()[3:]
    answer = tmp_path / "answer.csv"
    with answer.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Mã hồ sơ", "Số serial token", "Serial chứng thư", "Ngày hiệu lực",
                    "Ngày hết hạn"])
        for n, row in enumerate(rows, start=1):
            w.writerow([row[0], f"CLI{n}", f"CC{n}", "01/12/2026", "01/12/2029"])
    code, out, err = tokenfleet("--db", url, "request", "import-answer", str(answer),
                         "--method", "postal", "--tracking-no", "RR99VN")
    assert code == 0, err
    assert "completed 1 request(s)" in out and "3 subscriber(s)" in out
    code, out, _ = tokenfleet("--db", url, "request", "show", rid, "--format", "json")
    shown = json.loads(out)[0]
    assert shown["state"] == "completed" and shown["subscribers"][0]["national_id"] == \
        "********0001"
    record = tmp_path / "bien_ban.xlsx"
    code, out, _ = tokenfleet("--db", url, "handover", "record", "--request", rid, "-o",
                       str(record))
    assert code == 0 and "3 record(s)" in out
    code, out, _ = tokenfleet("--db", url, "request", "stats", "--format", "json")
    first = json.loads(out)[0]
    assert (first["by"], first["key"], first["completed"]) == ("kind", "new_issuance", 1)


def test_unlock_desk_commands(url, tokenfleet):
    assert tokenfleet("--db", url, "unlock", "open", "TOK001")[0] == 0
    code, out, _ = tokenfleet("--db", url, "unlock", "list", "--open", "--format", "json")
    assert [c["serial"] for c in json.loads(out)] == ["TOK001"]
    code, out, _ = tokenfleet("--db", url, "unlock", "bring", "TOK001", "--by", "Văn thư SYT")
    assert code == 0 and "brought in by Văn thư SYT" in out
    code, out, _ = tokenfleet("--db", url, "unlock", "close", "TOK001", "--method",
                       "so_pin_reset")
    assert code == 0 and "unlocked (so_pin_reset)" in out
    code, out, _ = tokenfleet("--db", url, "unlock", "stats", "--format", "json")
    (month,) = json.loads(out)
    assert month["agency_code"] == "SYT" and month["unlocked"] == 1
    code, _, err = tokenfleet("--db", url, "unlock", "close", "TOK001", "--method",
                       "so_pin_reset")
    assert code == exit_codes.for_error(MoveNotAllowedError)
    assert "TOK001 is issued: cannot unlock" in err


def test_bad_input_is_one_clear_line(url, tokenfleet, tmp_path):
    code, _, err = tokenfleet("--db", url, "request", "new", "--kind", "new_issuance",
                       "--agency", "SYT", "--name", "Lê Sai", "--national-id", "12ab")
    assert code == exit_codes.for_error(ValidationError) and "national ID number '12ab'" in err
    code, _, err = tokenfleet("--db", url, "request", "new", "--kind", "renewal", "--agency",
                       "SYT", "--holder", "Nguyễn Văn An", "--device", "TOK001")
    assert code == exit_codes.for_error(ValidationError) and "appears twice in the batch" in err
    answer = tmp_path / "a.csv"
    answer.write_text("Số CCCD,Serial chứng thư\n079123456789,X1\n", encoding="utf-8")
    code, _, err = tokenfleet("--db", url, "request", "import-answer", str(answer))
    assert code == exit_codes.for_error(ImportFileError)
    assert "row 2: subscriber (no name) (ID ********6789) is in no submitted request" in err
    code, out, _ = tokenfleet("--db", url, "request", "list", "--format", "json")
    assert json.loads(out) == []


def test_pending_list_takes_the_agency_subtree(url, tokenfleet):
    for holder in ("Nguyễn Văn An", "Trần Thị Bình"):
        assert tokenfleet("--db", url, "request", "new", "--kind", "renewal", "--agency",
                   "SYT", "--holder", holder)[0] == 0
    code, out, _ = tokenfleet("--db", url, "request", "list", "--pending-over", "0",
                       "--agency", "DN", "--format", "json")
    assert code == 0 and len(json.loads(out)) == 2
    code, out, _ = tokenfleet("--db", url, "request", "list", "--pending-over", "0",
                       "--agency", "STC", "--format", "json")
    assert json.loads(out) == []


def test_unlock_list_open_agrees_with_the_locked_devices(url: str, tokenfleet: Any) -> None:
    """Issue 14: ``unlock list --open`` and the desk's count disagreed once a locked device was
    reported lost (the CLI joined on the device's status, the desk counted open cases)."""
    for serial in ("TOK001", "TOK002"):
        assert tokenfleet("--db", url, "device", "lock", serial)[0] == 0
    assert tokenfleet("--db", url, "device", "lose", "TOK001")[0] == 0
    code, out, _ = tokenfleet("--db", url, "unlock", "list", "--open", "--format", "json")
    assert code == 0 and [c["serial"] for c in json.loads(out)] == ["TOK002"]
    code, out, _ = tokenfleet("--db", url, "unlock", "list", "--format", "json")
    by_serial = {c["serial"]: c for c in json.loads(out)}
    assert by_serial["TOK001"]["outcome"] == "lost" and by_serial["TOK001"]["closed_at"]
    code, out, _ = tokenfleet("--db", url, "devices", "--status", "locked", "--format", "json")
    assert [d["serial"] for d in json.loads(out)] == ["TOK002"]
