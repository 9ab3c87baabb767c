"""The officers' workbench at /console/: server-rendered pages over the same application services,
command pipeline and visibility gate as the JSON API (it holds no rule and no query of its own)."""
