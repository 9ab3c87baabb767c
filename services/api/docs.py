"""The API's documentation pages, served whole from this process: Swagger UI at /docs and ReDoc at
/redoc, their scripts and styles from the `fastapi-offline` package (Swagger UI: Apache-2.0;
ReDoc: MIT; the package: MIT) under /docs-assets/. FastAPI's defaults load them from a public CDN
(and ReDoc's fonts from Google), which a government intranet cannot reach: the pages came up blank.

ReDoc's bundle names one more outside address itself: the Redocly logo beside its "API docs by
Redocly" credit (cdn.redoc.ly). The bundle is served with that address pointing to a plain mark of
our own under /docs-assets/, so the credit stays and nothing leaves the intranet.
"""

from __future__ import annotations

import functools
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
PREFIX = "/docs-assets"
LICENCES = {  # what is served under /docs-assets and under which licence
    "swagger-ui-bundle.js": "Swagger UI, Apache-2.0", "swagger-ui.css": "Swagger UI, Apache-2.0",
    "redoc.standalone.js": "ReDoc, MIT", "favicon.png": "FastAPI, MIT",
}


REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
LOCAL_LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16" role="img" aria-label="ReDoc">'
              b'<rect width="16" height="16" rx="3" fill="#0b4f9c"/></svg>')


@functools.cache
def _redoc_bundle() -> bytes:
    bundle = (ASSETS / "redoc.standalone.js").read_bytes()
    if REDOC_LOGO.encode() not in bundle:
        raise RuntimeError("the ReDoc bundle changed: check it for outside addresses again")
    return bundle.replace(REDOC_LOGO.encode(), f"{PREFIX}/redoc-logo.svg".encode())


def add_docs(app: FastAPI) -> None:
    """Mount the assets and the two pages (the app is created with docs_url=None, redoc_url=None)."""

    @app.get(f"{PREFIX}/redoc.standalone.js", include_in_schema=False)
    def redoc_bundle() -> Response:  # registered before the mount below, so it answers for the file
        return Response(_redoc_bundle(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})

    @app.get(f"{PREFIX}/redoc-logo.svg", include_in_schema=False)
    def redoc_logo() -> Response:
        return Response(LOCAL_LOGO, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{title} - Swagger UI",
                                   swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js", swagger_css_url=f"{PREFIX}/swagger-ui.css",
                                   swagger_favicon_url=f"{PREFIX}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{title} - ReDoc",
                              redoc_js_url=f"{PREFIX}/redoc.standalone.js", redoc_favicon_url=f"{PREFIX}/favicon.png",
                              with_google_fonts=False)
