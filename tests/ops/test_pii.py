from __future__ import annotations

import csv
import pickle
from pathlib import Path

import pandas as pd
import pytest

from thresher.engine.local import run_step
from thresher.errors import RecipeError
from thresher.ops import DropPii, Pii
from thresher.ops.pii import find_pii, redact_pii
from thresher.recipe import parse_recipe

DATA = Path(__file__).parents[2] / ".." / "shared" / "data"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def cn_id(body: str) -> str:
    """A resident ID with the GB 11643 (ISO 7064 MOD 11-2) check character, computed here."""
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]


VALID_ID = cn_id("11010119900307451")  # Beijing Dongcheng, born 1990-03-07
BAD_ID = VALID_ID[:-1] + ("1" if VALID_ID[-1] != "1" else "2")


def kinds(text: str, **kw) -> list[tuple[str, str]]:
    return [(m.kind, m.text) for m in find_pii(text, **kw)]


def table(texts):
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": ["a"] * len(texts), "source": [""] * len(texts)})


def test_email_and_phone_in_english_and_chinese():
    assert kinds("Email jane.doe@example.com or call +1 650 253 0000 today.") == [
        ("email", "jane.doe@example.com"), ("phone", "+1 650 253 0000")]
    assert kinds("请联系我 13812345678，谢谢") == [("phone", "13812345678")]
    assert kinds("前台电话+86 138-1234-5678") == [("phone", "+86 138-1234-5678")]
    assert kinds("邮箱 zhang.san@example.cn。") == [("email", "zhang.san@example.cn")]


def test_plain_reviews_dates_and_prices_are_not_pii():
    assert kinds("这家酒店的服务很好，房间也很干净，价格298元。") == []
    assert kinds("入住日期 2008-10-12，退房 2008.10.15，下午3:30:00到店") == []
    assert kinds("The room was clean and the staff were friendly, 5/5.") == []


def test_email_domain_is_not_also_a_url_and_urls_drop_trailing_punctuation():
    assert kinds("write to info@www.example.org please") == [("email", "info@www.example.org")]
    assert kinds("详情见https://hotel.example.com/room?id=3。") == [
        ("url", "https://hotel.example.com/room?id=3")]
    assert kinds("(see http://x.io/a_b).") == [("url", "http://x.io/a_b")]
    assert kinds("www.example.com is a site; http:// alone is not") == [("url", "www.example.com")]


def test_ip_addresses_are_validated():
    assert kinds("server 192.168.1.20 is down") == [("ip", "192.168.1.20")]
    assert kinds("服务器地址 2001:db8::8a2e:370:7334 无法连接") == [
        ("ip", "2001:db8::8a2e:370:7334")]
    assert kinds("version 1.2.3.4.5 and 999.1.1.1 and 10:30:45") == []
    assert kinds("the URL http://10.0.0.1/admin holds an IP") == [("url", "http://10.0.0.1/admin")]


def test_cn_id_needs_a_valid_checksum_and_is_not_a_phone():
    assert kinds(f"身份证号{VALID_ID}，请核对") == [("cn_id", VALID_ID)]
    with_x = cn_id("11010119900307408")
    assert with_x.endswith("X") and kinds(f"ID {with_x.lower()}.") == [("cn_id", with_x.lower())]
    assert kinds(f"身份证号{BAD_ID}") == []
    bad_date = cn_id("11010119901307451")  # month 13, correct checksum: not an ID...
    assert kinds(f"身份证号{bad_date}") == [("credit_card", bad_date)]  # ...but Luhn-valid


def test_credit_cards_need_luhn():
    assert kinds("card 4111 1111 1111 1111 expires") == [("credit_card", "4111 1111 1111 1111")]
    assert kinds("卡号4111-1111-1111-1111") == [("credit_card", "4111-1111-1111-1111")]
    assert kinds("card 4111 1111 1111 1112 expires") == []
    assert kinds("order 0000000000000000") == []  # Luhn-valid, but no card


def test_kinds_filter_after_overlap_resolution():
    text = f"mail a@b.com, id {VALID_ID}, 13812345678"
    assert kinds(text, kinds=["email"]) == [("email", "a@b.com")]
    assert kinds(text, kinds=["phone"]) == [("phone", "13812345678")]
    assert kinds("13812345678", regions=["US"]) == []  # a Chinese mobile needs region CN


def test_redact_replaces_with_typed_placeholders():
    text = "Mail jane@example.com, call 13812345678, see https://x.io/a"
    assert redact_pii(text, find_pii(text)) == "Mail <EMAIL>, call <PHONE>, see <URL>"
    assert redact_pii("无", []) == "无"


def test_pii_mapper_report_and_redact_count_by_kind():
    texts = ["请联系我 13812345678", "邮箱 zhang.san@example.cn 或 li@example.com",
             "The room was clean.", f"IP 2001:db8::1, 身份证{VALID_ID}"]
    out, rejects, stats = run_step(Pii(), table(texts))
    assert list(out.text) == texts and rejects == []
    assert stats.info["counts"] == {"cn_id": 1, "email": 2, "ip": 1, "phone": 1}
    out, _, stats = run_step(Pii(mode="redact", kinds=["email", "cn_id"]), table(texts))
    assert list(out.text) == ["请联系我 13812345678", "邮箱 <EMAIL> 或 <EMAIL>",
                              "The room was clean.", "IP 2001:db8::1, 身份证<CN_ID>"]
    assert stats.info["counts"] == {"cn_id": 1, "email": 2}
    assert "_counts" not in out.columns


def test_drop_pii_names_kinds_never_the_data():
    texts = ["Mail me at a.b@example.com or +1 650 253 0000", "房间很干净，服务也好",
             "卡号 4111 1111 1111 1111"]
    out, rejects, stats = run_step(DropPii(), table(texts))
    assert list(out.text) == ["房间很干净，服务也好"]
    assert [(r.reason, r.detail) for r in rejects] == [("pii", "email,phone"),
                                                       ("pii", "credit_card")]
    assert stats.rejected == {"pii": 2}
    assert all("@" not in r.detail and "4111" not in r.detail for r in rejects)


def test_settings_are_checked_and_operators_pickle():
    with pytest.raises(ValueError, match="unknown PII kinds \\['passport'\\]"):
        Pii(kinds=["passport"]).check()
    with pytest.raises(ValueError, match="unknown phone regions \\['XX'\\]"):
        DropPii(regions=["XX"]).check()
    with pytest.raises(ValueError, match="kinds is empty"):
        DropPii(kinds=[]).check()
    with pytest.raises(RecipeError, match="steps\\[1\\] pii.mode"):
        parse_recipe({"input": "d.csv", "steps": [{"pii": {"mode": "mask"}}]})
    op = pickle.loads(pickle.dumps(Pii(mode="redact", regions=["CN"])))
    assert op.settings() == {"mode": "redact", "kinds": None, "regions": ["CN"]}


@pytest.mark.skipif(not (DATA / "chnsenticorp").is_dir(), reason="shared data folder not present")
def test_real_reviews_are_almost_never_flagged():
    with open(DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv", encoding="utf-8") as f:
        reviews = [row["review"] for row in csv.DictReader(f)][:2000]
    flagged = [r for r in reviews if find_pii(r)]
    assert len(flagged) <= 10, flagged[:10]


def test_phone_glued_to_a_price_by_a_bracket_is_still_found():
    text = "大理包一天车才￥150（13988505869李，服务很好）"
    assert kinds(text) == [("phone", "13988505869")]
    assert kinds("Room 16A, price 150(20080503) and 2008-10-12") == []


# --- addresses --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "found"), [
    ("Ship it to 258 Cedar Court, Springdale, AR 91396 please",
     ["258 Cedar Court, Springdale, AR 91396"]),
    ("New address: 12 Maple Avenue, Apt 4, Riverton, OR 97001. Thanks",
     ["12 Maple Avenue, Apt 4, Riverton, OR 97001"]),
    ("10 Downing Street, London", ["10 Downing Street"]),  # no ZIP: the town stays
    ("新地址是上海市徐汇区漕溪北路123号5栋1203室，谢谢", ["上海市徐汇区漕溪北路123号5栋1203室"]),
    ("寄到北京朝阳区建国路88号", ["北京朝阳区建国路88号"]),  # short form of 北京市
    ("地址：文三路8号", ["文三路8号"]),  # no divisions: a short road name after punctuation
    ("I paid $5 for 3 Big Macs on Main Street", []),  # a number, but no street name after it
    ("The 2 Dr Pepper cans were flat", []),
    ("我在路上等了3号", []),  # a road type and a number, but no road name
    ("快递到了新地址是漕溪北路123号", []),  # no division and a long run: where would it start?
])
def test_addresses(text, found):
    assert [t for kind, t in kinds(text) if kind == "address"] == found


def test_address_redaction_keeps_the_words_around_it():
    text = "新地址是上海市徐汇区漕溪北路123号5栋1203室，谢谢; or 7 Elm Drive, Fairview, TX 75069."
    assert redact_pii(text, find_pii(text)) == "新地址是<ADDRESS>，谢谢; or <ADDRESS>."
    assert kinds("Call (212) 555-0142 at 7 Elm Drive", kinds=["phone"]) == [
        ("phone", "(212) 555-0142")]
