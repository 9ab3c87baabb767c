"""The API's documentation pages, served whole from this process: Swagger UI at /docs and ReDoc at
/redoc, their scripts and styles from the `fastapi-offline` package (Swagger UI: Apache-2.0;
ReDoc: MIT; the package: MIT) under /docs-assets/. FastAPI's defaults load them from a public CDN
(and ReDoc's fonts from Google), which a government intranet cannot reach: the pages came up blank.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
PREFIX = "/docs-assets"
LICENCES = {  # what is served under /docs-assets and under which licence
    "swagger-ui-bundle.js": "Swagger UI, Apache-2.0", "swagger-ui.css": "Swagger UI, Apache-2.0",
    "redoc.standalone.js": "ReDoc, MIT", "favicon.png": "FastAPI, MIT",
}


def add_docs(app: FastAPI) -> None:
    """Mount the assets and the two pages (the app is created with docs_url=None, redoc_url=None)."""
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
