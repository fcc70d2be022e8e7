#!/usr/bin/env bash
# The Debian packages `make test` needs, installed when missing (root; `apt-get update` once):
#   chromium                 the browser the web app's end-to-end tests drive
#   fonts-noto-core          fonts that render Vietnamese diacritics (web, charts, PDF)
#   fonts-noto-cjk           Chinese, Japanese and Korean titles in the digest PDF
#   fonts-dejavu-core        the charts' default font
#   poppler-utils            pdftotext/pdftoppm: library PDFs and the digest PDF checks
#   libpango-1.0-0 libpangoft2-1.0-0   WeasyPrint (digest PDF)
#   maven                    fetches the Elasticsearch test server from Maven Central
set -euo pipefail
packages=(chromium fonts-noto-core fonts-noto-cjk fonts-dejavu-core poppler-utils libpango-1.0-0 libpangoft2-1.0-0 maven)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing Debian packages: ${missing[*]} (install them as root)" >&2
    exit 1
fi
echo "system-deps: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
