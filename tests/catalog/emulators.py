"""Local HTTP servers that answer like the public pricing APIs, on 127.0.0.1.

- ``AzureRetailPrices``: GET /api/retail/prices with ``$filter`` (armRegionName)
  and ``$skip`` paging; answers ``{"BillingCurrency", "CustomerEntityId", "Items",
  "NextPageLink", "Count"}`` like prices.azure.com.
- ``GcpBillingCatalog``: GET /v1/services/6F81-5844-456A/skus with ``key``,
  ``pageSize`` and ``pageToken``; answers ``{"skus", "nextPageToken"}``; a wrong or
  missing key gets Google's 400 error document.
- ``AwsPriceList``: POST / with ``X-Amz-Target: AWSPriceListService.GetProducts``
  (JSON 1.1 protocol); answers ``{"FormatVersion", "PriceList": [json strings],
  "NextToken"}`` filtered by ``regionCode``.

Each records the requests it saw in ``requests``.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server:
    def __init__(self):
        outer = self
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                status, body = outer.get(self.path)
                self._send(status, body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                outer.requests.append(self.path)
                status, body = outer.post(self.path, dict(self.headers), data)
                self._send(status, body, "application/x-amz-json-1.1")

            def _send(self, status, body, ctype="application/json"):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def get(self, path):
        return 404, {"error": "not found"}

    def post(self, path, headers, data):
        return 404, {"error": "not found"}

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def azure_item(sku: str, region: str, price: float, *, kind: str = "Consumption", spot: bool = False,
               windows: bool = False, low_priority: bool = False, term: str | None = None) -> dict:
    meter = sku.removeprefix("Standard_").replace("_", " ")
    sku_name = meter + (" Spot" if spot else " Low Priority" if low_priority else "")
    series = "Series Windows" if windows else "Series"
    return {
        "currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price, "unitPrice": price,
        "armRegionName": region, "location": region, "effectiveStartDate": "2026-01-01T00:00:00Z",
        "meterId": f"m-{sku}-{region}-{kind}-{spot}", "meterName": sku_name, "productId": "DZH318Z0BQPS",
        "skuId": "DZH318Z0BQPS/00TG", "productName": f"Virtual Machines {meter.split()[0]} {series}",
        "skuName": sku_name, "serviceName": "Virtual Machines", "serviceId": "DZH313Z7MMC8",
        "serviceFamily": "Compute", "unitOfMeasure": "1 Hour", "type": kind, "isPrimaryMeterRegion": True,
        "armSkuName": sku, **({"reservationTerm": term} if term else {}),
    }


class AzureRetailPrices(_Server):
    PAGE = 3

    def __init__(self, items: list[dict]):
        self.items = items
        super().__init__()

    def get(self, path):
        url = urllib.parse.urlsplit(path)
        if url.path != "/api/retail/prices":
            return 404, {"error": {"code": "NotFound"}}
        q = urllib.parse.parse_qs(url.query)
        flt = (q.get("$filter") or [""])[0]
        m = re.search(r"armRegionName eq '([a-z0-9]+)'", flt)
        items = [i for i in self.items if not m or i["armRegionName"] == m.group(1)]
        if "serviceName eq 'Virtual Machines'" in flt:
            items = [i for i in items if i["serviceName"] == "Virtual Machines"]
        skip = int((q.get("$skip") or ["0"])[0])
        page = items[skip:skip + self.PAGE]
        nxt = None
        if skip + self.PAGE < len(items):
            params = {k: v[0] for k, v in q.items()}
            params["$skip"] = str(skip + self.PAGE)
            nxt = f"{self.url}{url.path}?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"
        return 200, {"BillingCurrency": "USD", "CustomerEntityId": "Default", "CustomerEntityType": "Retail",
                     "Items": page, "NextPageLink": nxt, "Count": len(page)}


def gcp_sku(description: str, usage: str, regions: list[str], price: float, group: str = "CPU") -> dict:
    units, nanos = int(price), round((price - int(price)) * 1e9)
    return {
        "name": f"services/6F81-5844-456A/skus/{abs(hash((description, usage))) % 10**12:012d}",
        "skuId": "0000-0000-0000", "description": description,
        "category": {"serviceDisplayName": "Compute Engine", "resourceFamily": "Compute",
                     "resourceGroup": group, "usageType": usage},
        "serviceRegions": regions,
        "pricingInfo": [{"summary": "", "effectiveTime": "2026-11-01T00:00:00Z", "currencyConversionRate": 1,
                         "pricingExpression": {"usageUnit": "h" if group != "RAM" else "GiBy.h",
                                               "displayQuantity": 1, "baseUnitConversionFactor": 3600,
                                               "tieredRates": [{"startUsageAmount": 0, "unitPrice": {
                                                   "currencyCode": "USD", "units": str(units), "nanos": nanos}}]}}],
        "serviceProviderName": "Google",
    }


class GcpBillingCatalog(_Server):
    PAGE = 4
    KEY = "test-key"

    def __init__(self, skus: list[dict]):
        self.skus = skus
        super().__init__()

    def get(self, path):
        url = urllib.parse.urlsplit(path)
        if url.path != "/v1/services/6F81-5844-456A/skus":
            return 404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}}
        q = urllib.parse.parse_qs(url.query)
        if (q.get("key") or [""])[0] != self.KEY:
            return 400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                   "status": "INVALID_ARGUMENT"}}
        start = int((q.get("pageToken") or ["0"])[0])
        page = self.skus[start:start + self.PAGE]
        token = str(start + self.PAGE) if start + self.PAGE < len(self.skus) else ""
        return 200, {"skus": page, "nextPageToken": token}


def aws_price_document(instance_type: str, region: str, on_demand: float, reserved: float | None) -> str:
    sku = f"SKU{abs(hash((instance_type, region))) % 10**8:08d}"
    doc = {
        "product": {"productFamily": "Compute instance", "sku": sku, "attributes": {
            "instanceType": instance_type, "regionCode": region, "operatingSystem": "Linux",
            "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used", "servicecode": "AmazonEC2"}},
        "serviceCode": "AmazonEC2",
        "terms": {"OnDemand": {f"{sku}.JRTCKXETXF": {
            "offerTermCode": "JRTCKXETXF", "sku": sku, "termAttributes": {},
            "priceDimensions": {f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                "unit": "Hrs", "pricePerUnit": {"USD": f"{on_demand:.10f}"}, "description": "On Demand Linux"}}}}},
        "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z",
    }
    if reserved is not None:
        doc["terms"]["Reserved"] = {
            f"{sku}.4NA7Y494T4": {"offerTermCode": "4NA7Y494T4", "sku": sku, "termAttributes": {
                "LeaseContractLength": "1yr", "OfferingClass": "standard", "PurchaseOption": "No Upfront"},
                "priceDimensions": {f"{sku}.4NA7Y494T4.6YS6EN2CT7": {
                    "unit": "Hrs", "pricePerUnit": {"USD": f"{reserved:.10f}"}}}},
            f"{sku}.6QCMYABX3D": {"offerTermCode": "6QCMYABX3D", "sku": sku, "termAttributes": {
                "LeaseContractLength": "1yr", "OfferingClass": "standard", "PurchaseOption": "All Upfront"},
                "priceDimensions": {f"{sku}.6QCMYABX3D.2TG2D8R56U": {
                    "unit": "Quantity", "pricePerUnit": {"USD": "1000"}}}}}
    return json.dumps(doc)


class AwsPriceList(_Server):
    PAGE = 2

    def __init__(self, documents: list[tuple[str, str]]):  # (regionCode, json document)
        self.documents = documents
        super().__init__()

    def post(self, path, headers, data):
        target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
        if target != "AWSPriceListService.GetProducts":
            return 400, {"__type": "InvalidParameterException", "message": f"unknown target {target}"}
        body = json.loads(data or b"{}")
        filters = {f["Field"]: f["Value"] for f in body.get("Filters", [])}
        docs = [d for r, d in self.documents if filters.get("regionCode") in (None, r)]
        start = int(body.get("NextToken") or 0)
        out = {"FormatVersion": "aws_v1", "PriceList": docs[start:start + self.PAGE]}
        if start + self.PAGE < len(docs):
            out["NextToken"] = str(start + self.PAGE)
        return 200, out
