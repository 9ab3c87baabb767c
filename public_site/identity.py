"""Who publishes the site and where: the footer's publishing authority, contact, error-report
(纠错) channel and site identifier (网站标识码), the address every absolute link is built from,
and the licence the downloads are published under.

They come from settings (``ELDERCARE_SITE_*``), are recorded with each publication and given back
when a past publication is rebuilt, so a rebuild is byte-identical even after they change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class SiteIdentity:
    site_url: str  # where the site is published, ending in "/"; sitemap, feeds, DCAT, canonical links
    publisher: str  # 主办单位
    contact: str  # 联系方式
    corrections: str  # 纠错: how to report an error on the site, in words
    corrections_url: str  # the channel itself (https: or mailto:)
    identifier: str  # 网站标识码, assigned to government websites
    licence: str  # terms the published data may be reused under, in words
    licence_url: str
    key_notice: str  # where the ledger's public key is officially announced, to check the site's copy against

    def __post_init__(self) -> None:
        parts = urlsplit(self.site_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or not self.site_url.endswith("/"):
            raise ValueError(f"the site URL must be an http(s) address ending in '/', not {self.site_url!r}")
        if urlsplit(self.corrections_url).scheme not in ("http", "https", "mailto", "tel"):
            raise ValueError(f"the error-report channel must be an http(s), mailto: or tel: address, not {self.corrections_url!r}")
        for field in fields(self):
            if not getattr(self, field.name).strip():
                raise ValueError(f"the site's {field.name} is empty")

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteIdentity:
        """An identity as recorded; a field added since it was recorded takes the demonstration's value."""
        return cls(**(DEMO.as_dict() | {f.name: data[f.name] for f in fields(cls) if f.name in data}))


# What a demonstration or test build says: an example address (RFC 2606 style) and a plain
# statement that this is not a real publisher, so nobody mistakes it for an official site.
DEMO = SiteIdentity(
    site_url="http://127.0.0.1:8000/site/",
    publisher="养老机构综合监管部门（演示）",
    contact="演示站点，无实际联系方式",
    corrections="对本站公开信息有异议或发现错误的，可通过纠错渠道反映，主办单位核实后更正",
    corrections_url="mailto:jiucuo@ylfw.example.gov.cn",
    identifier="0000000000",
    licence="本站公开数据可免费获取和使用，使用时请注明来源，不得歪曲原意",
    licence_url="http://127.0.0.1:8000/site/pages/about.html#licence",
    key_notice="演示站点没有正式公告的公钥；正式站点的公钥以主办单位在其门户网站发布的公告为准",
)

ENVIRONMENT = {  # setting name → field; see README "Operations"
    "ELDERCARE_SITE_URL": "site_url", "ELDERCARE_SITE_PUBLISHER": "publisher", "ELDERCARE_SITE_CONTACT": "contact",
    "ELDERCARE_SITE_CORRECTIONS": "corrections", "ELDERCARE_SITE_CORRECTIONS_URL": "corrections_url",
    "ELDERCARE_SITE_IDENTIFIER": "identifier", "ELDERCARE_SITE_LICENCE": "licence", "ELDERCARE_SITE_LICENCE_URL": "licence_url",
    "ELDERCARE_SITE_KEY_NOTICE": "key_notice",
}


def from_environment(env: dict[str, str]) -> SiteIdentity:
    """The identity the environment gives, the demonstration's for anything it leaves out. When the
    site URL is given and the licence URL is not, the licence is the about page on that site."""
    given = {field: env[name] for name, field in ENVIRONMENT.items() if env.get(name)}
    if "site_url" in given and "licence_url" not in given:
        given["licence_url"] = given["site_url"] + "pages/about.html#licence"
    return SiteIdentity(**(DEMO.as_dict() | given))
