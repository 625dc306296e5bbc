"""The document around a hosted page: inline stylesheet, top bar, one or two columns, footer."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

#: What an emulator's page handler answers: status, headers, body.
PageResult = tuple[int, dict[str, str], bytes]
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Brand:
    """The provider a page stands in for: its name (top bar, title, footer) and accent colour.

    The accent colours buttons and links; white text sits on it, so pick a dark enough one.
    """

    name: str
    accent: str


STRIPE = Brand("Stripe", "#635bff")
PADDLE = Brand("Paddle", "#1f5bd8")

# Inline on purpose: the pages must render offline, with nothing fetched (no CDN, no fonts).
# A phone (360 px) gets one column; from 768 px a page with a summary gets two, as checkouts do.
CSS = """
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f6f8fa;color:#1a1f36;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:var(--accent)}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 16px}
h2{font-size:1.125rem;line-height:1.3;margin:0 0 8px}
p{margin:0 0 12px}
p,li,dd,h1,h2,label{overflow-wrap:anywhere}
a{overflow-wrap:break-word}
.ps-wrap{max-width:1000px;margin:0 auto;padding:0 16px}
.ps-top{background:#fff;border-bottom:1px solid #e3e8ee}
.ps-top .ps-wrap{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;
gap:8px 16px;min-height:56px}
.ps-brand{font-weight:700;font-size:1.125rem;color:var(--accent)}
.ps-badge{font-size:.75rem;font-weight:700;text-transform:uppercase;letter-spacing:.04em;
background:#fff4d6;color:#7a4f00;border-radius:999px;padding:2px 10px}
.ps-main{display:grid;gap:24px;padding-top:24px;padding-bottom:24px}
.ps-main>*{min-width:0}
.ps-main:not(.ps-split){max-width:760px}
@media (min-width:768px){.ps-split{grid-template-columns:minmax(0,1fr) minmax(0,1fr);
gap:48px;padding-top:48px}}
.ps-panel{background:#fff;border:1px solid #e3e8ee;border-radius:12px;padding:24px 20px;
box-shadow:0 1px 3px rgba(26,31,54,.06)}
@media (max-width:480px){.ps-panel{padding:20px 14px}.ps-card{padding:14px 12px}}
.ps-muted{color:#5c6779;font-size:.875rem}
.ps-big{font-size:2rem;font-weight:700;line-height:1.2;margin:4px 0 16px;overflow-wrap:anywhere}
.ps-big small{font-size:1rem;font-weight:500;color:#5c6779}
.ps-lines{width:100%;border-collapse:collapse;font-size:.9375rem;margin:0 0 16px}
.ps-lines caption{text-align:left;font-weight:600;padding:0 0 8px}
.ps-lines th,.ps-lines td{padding:10px 0;text-align:left;vertical-align:top;
border-bottom:1px solid #e3e8ee;font-weight:400}
.ps-lines thead th{font-size:.8125rem;color:#5c6779;padding-top:0}
.ps-lines .ps-num{text-align:right;white-space:nowrap;padding-left:12px}
.ps-lines tfoot th,.ps-lines tfoot td{border-bottom:0;padding:6px 0 0}
.ps-lines tfoot td{padding-left:12px}
.ps-lines tr.ps-total th,.ps-lines tr.ps-total td{font-weight:700;font-size:1.0625rem;
border-top:1px solid #e3e8ee;padding-top:12px}
.ps-name{font-weight:600;overflow-wrap:anywhere}
.ps-detail{display:block;color:#5c6779;font-size:.8125rem;overflow-wrap:anywhere}
.ps-actions{display:grid;gap:12px;margin:16px 0}
.ps-actions form,.ps-form{margin:0}
.ps-btn{display:block;width:100%;min-height:44px;padding:11px 16px;border-radius:8px;
border:1px solid var(--accent);background:var(--accent);color:#fff;font:inherit;
font-weight:600;text-align:center;text-decoration:none;cursor:pointer}
.ps-btn:hover{filter:brightness(.94)}
.ps-btn:focus-visible,select:focus-visible,a:focus-visible{outline:3px solid #9aa8ff;
outline-offset:2px}
.ps-btn.secondary{background:#fff;color:var(--accent)}
.ps-btn.danger{background:#fff;color:#b3123a;border-color:#b3123a}
.ps-btn.link{background:none;border-color:transparent;color:#5c6779;font-weight:500}
.ps-alert{border-radius:8px;padding:12px 16px;margin:0 0 16px;background:#fde8ec;
color:#8f0f2e;border:1px solid #f5bfcc}
.ps-alert.info{background:#eef1ff;color:#2b3280;border-color:#cfd6ff}
.ps-details{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:6px 16px;
margin:0 0 16px;font-size:.9375rem}
.ps-details dt{color:#5c6779}
.ps-details dd{margin:0;overflow-wrap:anywhere}
.ps-card{border:1px solid #e3e8ee;border-radius:10px;padding:16px;margin:0 0 16px;
background:#fff}
.ps-card>:last-child{margin-bottom:0}
.ps-pill{display:inline-block;border-radius:999px;padding:1px 10px;font-size:.8125rem;
font-weight:600;background:#e3e8ee;color:#3c4257}
.ps-pill.ok{background:#d7f7e0;color:#0a5c26}
.ps-pill.warn{background:#fff4d6;color:#7a4f00}
.ps-pill.bad{background:#fde8ec;color:#8f0f2e}
label{display:block;font-weight:600;font-size:.875rem;margin:0 0 6px}
select{display:block;width:100%;min-height:44px;padding:8px 10px;margin:0 0 12px;font:inherit;
color:inherit;background:#fff;border:1px solid #c1c9d2;border-radius:8px}
.ps-foot{color:#5c6779;font-size:.8125rem;padding-bottom:32px}
"""


def document(
    title: str,
    body: str,
    *,
    brand: Brand = STRIPE,
    summary: str | None = None,
    lang: str = "en",
) -> SafeString:
    """The whole HTML document: ``title`` as ``<title>`` and the panel's ``<h1>``.

    ``body`` and ``summary`` are HTML built with this kit (or Django's ``format_html``); a
    plain ``str`` is escaped. With a ``summary`` (an order summary: what is bought, the total)
    the page has two columns on a desktop, the summary first on a phone.
    """
    panel = format_html("<section class='ps-panel'><h1>{}</h1>{}</section>", title, body)
    main = panel
    if summary is not None:
        main = format_html(
            "<aside class='ps-summary' aria-label='Order summary'>{}</aside>{}", summary, panel
        )
    return format_html(
        "<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>{title} · {name} emulator</title><style>:root{{--accent:{accent}}}{css}</style>"
        "</head><body><header class='ps-top'><div class='ps-wrap'>"
        "<span class='ps-brand'>{name}</span><span class='ps-badge'>Test mode</span>"
        "</div></header><main class='ps-wrap ps-main{split}'>{main}</main>"
        "<footer class='ps-wrap ps-foot'><p>{name} emulator (test mode): no real payment is "
        "made and no card is charged.</p></footer></body></html>",
        lang=lang,
        title=title,
        name=brand.name,
        accent=brand.accent,
        css=mark_safe(CSS),
        split=" ps-split" if summary is not None else "",
        main=main,
    )


def page(
    title: str,
    body: str,
    *,
    status: int = 200,
    brand: Brand = STRIPE,
    summary: str | None = None,
) -> PageResult:
    """A hosted page as an emulator's HTTP front answers it (see :func:`document`)."""
    html = document(title, body, brand=brand, summary=summary)
    return status, {"Content-Type": HTML}, str(html).encode()


def redirect(location: str, status: int = 303) -> PageResult:
    """A redirect, as a page's form answers a POST (303 See Other: the browser GETs it)."""
    return status, {"Location": location, "Content-Type": "text/plain"}, b""


def escape(value: str) -> SafeString:
    """Text made safe for HTML (HTML built by the kit is left as it is)."""
    return conditional_escape(value)
