"""The enrolment QR code as an inline SVG element: no image file, no data: URL and no script, so the page
keeps its Content-Security-Policy (script, style and image from this site only) and nothing caches the
secret it carries."""

from __future__ import annotations

import qrcode
from django.utils.html import format_html

# Modules of white around the code: scanners need a quiet zone of four.
QUIET_ZONE = 4


def qr_svg(text: str, *, size: int = 220, label: str = ""):
    """An ``<svg>`` of the QR code of ``text``, ``size`` pixels square, safe to put in a template."""
    code = qrcode.QRCode(border=QUIET_ZONE, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    width = len(matrix)
    # One horizontal run of dark modules per path segment keeps the markup small (a few KB).
    segments = []
    for y, row in enumerate(matrix):
        x = 0
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                segments.append(f"M{start} {y}h{x - start}v1h{start - x}z")
            else:
                x += 1
    return format_html(
        '<svg class="qr-code" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {w}" width="{s}" height="{s}" '
        'role="img" aria-label="{label}" shape-rendering="crispEdges">'
        '<rect width="{w}" height="{w}" fill="#fff"/><path fill="#000" d="{d}"/></svg>',
        w=width,
        s=size,
        label=label,
        d="".join(segments),
    )
