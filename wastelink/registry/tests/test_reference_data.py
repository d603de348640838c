import pytest

from wastelink.registry.models import Estate, FactoryType, ManagementMethod, WasteCode
from wastelink.registry.services.reference import load_reference_data

pytestmark = pytest.mark.django_db


def test_all_waste_codes_with_their_hierarchy_are_loaded():
    assert WasteCode.objects.filter(level="chapter").count() == 20
    assert WasteCode.objects.filter(level="subchapter").count() == 111
    assert WasteCode.objects.filter(level="entry").count() == 842
    entry = WasteCode.objects.get(code="160211")
    assert entry.parent_id == "1602" and entry.parent.parent_id == "16"


def test_thai_mark_overrides_the_eu_star_where_known():
    # 16 02 11 is starred in the EU list and HM in Thailand (reference README).
    code = WasteCode.objects.get(code="160211")
    assert code.eu_hazardous and code.th_mark == "HM" and code.mark == "HM" and code.hazardous


def test_methods_carry_the_non_hazardous_only_flag():
    assert ManagementMethod.objects.count() == 37
    assert set(ManagementMethod.objects.filter(non_hazardous_only=True).values_list("code", flat=True)) == {
        "071", "074", "082", "083", "084"}  # fmt: skip


def test_factory_types_and_estates_with_boundaries():
    assert set(FactoryType.objects.values_list("number", flat=True)) == {"101", "105", "106"}
    assert Estate.objects.count() == 41
    for estate in Estate.objects.all():
        assert estate.boundary["type"] == "Polygon"
        assert estate.min_lon < estate.lon < estate.max_lon and estate.min_lat < estate.lat < estate.max_lat


def test_reloading_is_idempotent_and_keeps_admin_corrections():
    WasteCode.objects.filter(code="160211").update(name_th="แก้ไขโดยผู้ดูแล")
    counts = load_reference_data()
    assert counts == {"factory_types": 0, "management_methods": 0, "waste_codes": 0, "estates": 0}
    assert WasteCode.objects.get(code="160211").name_th == "แก้ไขโดยผู้ดูแล"
