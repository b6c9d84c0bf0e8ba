"""The report: its structure (the ReportModel the templates read), the charts (CHARTS), and rendering (Jinja2,
HTML, PDF)."""
