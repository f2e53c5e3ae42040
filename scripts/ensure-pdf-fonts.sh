#!/usr/bin/env bash
# Quotation and contract PDFs (WeasyPrint) need a Chinese font and HarfBuzz's font subsetter from the system:
# without the font every Chinese character prints as an empty box, without the subsetter each PDF takes ten
# seconds or more. Installs Debian's fonts-noto-cjk and libharfbuzz-subset0 when missing (as root), else says
# how. With --optional (make run) a machine without them still runs; its PDF downloads answer 503.
set -euo pipefail
optional=0
[ "${1:-}" = "--optional" ] && optional=1

has_font() {
  command -v fc-list >/dev/null && fc-list ":lang=zh-cn" family 2>/dev/null | grep -qiE "Noto Sans CJK|Noto Sans SC|Source Han Sans|WenQuanYi"
}
has_subsetter() {
  { command -v ldconfig >/dev/null && ldconfig -p 2>/dev/null | grep -q "libharfbuzz-subset.so"; } \
    || ls /usr/lib/*/libharfbuzz-subset.so.* /usr/lib/libharfbuzz-subset.so.* >/dev/null 2>&1
}

if has_font && has_subsetter; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's fonts-noto-cjk and libharfbuzz-subset0 for the PDFs…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fontconfig fonts-noto-cjk libharfbuzz-subset0 \
    libpango-1.0-0 libpangoft2-1.0-0 >/dev/null
  exit 0
fi
echo "PDFs need a Chinese font and HarfBuzz's subsetter: sudo apt-get install fonts-noto-cjk libharfbuzz-subset0" >&2
if [ "$optional" = "1" ]; then
  echo "(RenoCRM runs without them; quotation and contract PDFs are unavailable until they are installed.)" >&2
  exit 0
fi
exit 1
