import io

import pytest
from django.core.management import CommandError, call_command

from wastelink.audit.models import AuditRecord
from wastelink.registry.models import Establishment

HEADER = "registration_no,name_th,name_en,estate,roles,lat,lon,factory_type,diw_generator_id\n"
GOOD = (
    "72111111111111,บริษัท หนึ่ง จำกัด,One Co.,map-ta-phut,generator,12.68,101.13,,DIW-G-0000001\n"
    "10222222222222,บริษัท สอง จำกัด,Two Co.,,receiver;transporter,,,106,\n"
)
BAD = (
    "7211111111111,บริษัท สั้น จำกัด,Short,map-ta-phut,generator,,,,\n"  # 13 digits
    "10333333333333,บริษัท สาม จำกัด,Three,map-ta-phut,generator,,,,\n"  # outside-estate number with an estate
    "72444444444444,บริษัท สี่ จำกัด,Four,no-such-estate,generator,,,,\n"
    "72555555555555,บริษัท ห้า จำกัด,Five,bangpoo,generator,99,101,,\n"  # latitude out of range
    "10666666666666,บริษัท หก จำกัด,Six,,receiver,,,,\n"  # receiver without factory type
    "72777777777777,บริษัท เจ็ด จำกัด,Seven,bangpoo,,,,,\n"  # no roles
)


def run(tmp_path, text):
    path = tmp_path / "registry.csv"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_registry", str(path), stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_valid_rows_are_created_and_a_reimport_changes_nothing(tmp_path):
    code, out, _ = run(tmp_path, HEADER + GOOD)
    assert code == 0 and "created 2" in out
    two = Establishment.objects.get(registration_no="10222222222222")
    assert two.is_receiver and two.is_transporter and not two.is_generator and two.factory_type_id == "106"
    audit_count = AuditRecord.objects.count()
    code, out, _ = run(tmp_path, HEADER + GOOD)
    assert code == 0 and "unchanged 2" in out
    assert AuditRecord.objects.count() == audit_count  # an unchanged row writes nothing


@pytest.mark.django_db
def test_each_bad_row_is_reported_with_its_line_and_reason_and_good_rows_are_kept(tmp_path):
    code, out, err = run(tmp_path, HEADER + GOOD + BAD)
    assert code == 1
    assert "created 2" in out and "rejected 6" in out
    lines = err.strip().splitlines()
    assert lines[0].startswith("line 4:") and "14 digits" in lines[0]
    assert lines[1].startswith("line 5:") and "outside an estate" in lines[1]
    assert lines[2].startswith("line 6:") and "unknown estate" in lines[2]
    assert lines[3].startswith("line 7:") and "lat" in lines[3]
    assert lines[4].startswith("line 8:") and "factory type" in lines[4]
    assert lines[5].startswith("line 9:") and "roles" in lines[5]
    assert Establishment.objects.count() == 2  # nothing half-applied from the bad rows


@pytest.mark.django_db
def test_an_update_changes_only_that_row_and_is_audited(tmp_path):
    run(tmp_path, HEADER + GOOD)
    changed = GOOD.replace("One Co.", "One Co. (renamed)")
    code, out, _ = run(tmp_path, HEADER + changed)
    assert code == 0 and "updated 1" in out and "unchanged 1" in out
    rec = AuditRecord.objects.filter(action="establishment.update").get()
    assert rec.before["name_en"] == "One Co." and rec.after["name_en"] == "One Co. (renamed)"


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "reason"), [
    ("", "no header"),
    ("registration_no,name_th,colour\n", "unknown columns: colour"),
    ("registration_no,name_th\n", "missing columns: roles"),
])  # fmt: skip
def test_a_wrong_file_is_refused_before_any_row(tmp_path, text, reason):
    with pytest.raises(CommandError, match=reason):
        run(tmp_path, text)


@pytest.mark.django_db
def test_a_missing_file_is_a_clear_error():
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_registry", "/nonexistent/registry.csv")


@pytest.mark.django_db
def test_extra_values_and_quoted_newlines_keep_line_numbers_right(tmp_path):
    text = HEADER + '72111111111111,"บริษัท หนึ่ง\nจำกัด",One,map-ta-phut,generator,,,,\n' + "72888888888888,x,y,bangpoo,generator,,,,,EXTRA\n"
    code, out, err = run(tmp_path, text)
    assert "created 1" in out
    assert err.strip().startswith("line 4:") and "more values than columns" in err
