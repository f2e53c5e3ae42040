"""The firm's date formats per language (FORMAT_MODULE_PATH): what differs from Django's locale formats.

Pages show times of day as ``{{ value|date:"SHORT_DATETIME_FORMAT" }}``: the same "2026-12-07 09:30" in both
languages, so a time reads alike on screen, in exports and in messages. Django's own ``DATE_FORMAT`` and
``SHORT_DATE_FORMAT`` stay as the locale writes them (the dashboard's today, the report period)."""
