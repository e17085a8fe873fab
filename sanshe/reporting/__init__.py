"""Reporting: statistics shown in reports, console tables, figures, HTML pages from templates,
the comparison report and the ODD parameter table. It reads results as data and imports only
the core and the inputs (a comparison's type only for annotations)."""
