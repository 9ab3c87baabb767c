"""Example request bodies shown in the OpenAPI document (valid against every rule)."""

DISCOVERY_EXAMPLE = {
    "basis": {"document_no": "润民监〔2024〕3号", "legal_basis": "《养老机构管理办法》第十条"},
    "name": "润州区金山托老所",
    "address": "江苏省镇江市润州区金山路12号",
    "region_code": "321111",
    "operator": "个人举办",
    "discovered_on": "2024-03-04",
    "source": "complaint",
    "residents": 14,
    "handling": {
        "referred_to": ["fire_rescue", "market_regulation"],
        "reason": "举办者未办理登记，场所消防条件待核查",
        "measures": "责令限期办理登记备案，联合消防开展检查",
        "deadline": "2024-04-30",
        "responsible_person": "张明",
    },
}

FILING_EXAMPLE = {
    "basis": {"document_no": "润民养备〔2024〕12号", "legal_basis": "《养老机构管理办法》第九条"},
    "receipt_no": "321111-2024-0012",
    "name": "镇江市润州区颐和养老院",
    "address": "江苏省镇江市润州区解放路88号",
    "region_code": "321111",
    "credit_code": "91321111MA1N2P3Q4D",
    "nature": "for_profit",
    "ownership_type": "民办",
    "operator": "镇江颐和养老服务有限公司",
    "legal_representative": "李华",
    "beds": 120,
    "nursing_beds": 80,
    "floor_area_m2": "3500.5",
    "premises_ownership": "leased",
    "contact_person": "王芳",
    "contact_phone": "0511-85551234",
    "registration_authority": {"kind": "market_regulation", "level": "county", "region_code": "321111"},
    "materials": {"application_form": True, "registration_certificate": True, "compliance_commitment": True},
    "first_resident_admitted_on": "2024-03-01",
    "application_received_on": "2024-03-08",
    "filed_on": "2024-03-12",
}


EXAMPLES = {
    "institution.discover": DISCOVERY_EXAMPLE,
    "institution.file_new": FILING_EXAMPLE,
    "institution.file": FILING_EXAMPLE,
}
