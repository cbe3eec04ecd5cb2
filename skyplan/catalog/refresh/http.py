"""Plain-urllib JSON GETs for the public pricing APIs, with timeouts and clear failures."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from skyplan.catalog.refresh import PricingUnavailable

TIMEOUT = 20.0
USER_AGENT = "skyplan-catalog-refresh"


def with_params(url: str, params: dict[str, str]) -> str:
    if not params:
        return url
    sep = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + sep + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def get_json(url: str, *, what: str, timeout: float = TIMEOUT) -> dict:
    """GET ``url`` and decode its JSON object; PricingUnavailable on any transport or HTTP failure."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as e:
        detail = ""
        try:
            detail = e.read(300).decode("utf-8", "replace").strip()
        except Exception:
            pass
        raise PricingUnavailable(f"{what} answered HTTP {e.code}" + (f": {detail}" if detail else "")) from None
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        reason = getattr(e, "reason", e)
        raise PricingUnavailable(f"{what} is unreachable ({reason})") from None
    try:
        data = json.loads(body)
    except ValueError:
        raise PricingUnavailable(f"{what} answered something that is not JSON") from None
    if not isinstance(data, dict):
        raise PricingUnavailable(f"{what} answered JSON that is not an object")
    return data
