"""The dashboard: server-rendered pages (Jinja2), vendored static assets, fa/en catalogues."""
