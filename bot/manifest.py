"""The Teams app package: `manifest/` with the app id filled in, zipped as Teams sideloads it."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

# The `manifest` package's folder: the checkout's manifest/ in an editable install, the installed
# copy (package data) from a wheel.
MANIFEST_DIR = Path(str(files("manifest")))
# Relative to the current directory, like any CLI output default; `build/` is git-ignored.
DEFAULT_OUTPUT = Path("build") / "recbot-teams-app.zip"

APP_ID_PLACEHOLDER = "${{MICROSOFT_APP_ID}}"


@dataclass(frozen=True)
class Links:
    """The force's pages the Teams store shows (RECBOT_WEBSITE_URL, RECBOT_PRIVACY_URL, RECBOT_TERMS_URL)."""

    website: str
    privacy: str
    terms: str

    def placeholders(self) -> dict[str, str]:
        """Each manifest placeholder and its value; the website's host is the app's valid domain."""
        for name, url in (("website", self.website), ("privacy", self.privacy), ("terms of use", self.terms)):
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname or any(c in url for c in '"\\ <>'):
                raise ValueError(f"the {name} URL must be an https:// address, not {url!r}")
        return {
            "${{WEBSITE_URL}}": self.website,
            "${{PRIVACY_URL}}": self.privacy,
            "${{TERMS_URL}}": self.terms,
            "${{WEBSITE_DOMAIN}}": urlsplit(self.website).hostname or "",
        }


# The same pattern the manifest schema uses for "id" and "botId".
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_ANY_PLACEHOLDER = re.compile(r"\$\{\{[^}]*\}\}")
# A fixed timestamp makes the same inputs give a byte-identical zip.
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def build_package(app_id: str, links: Links, *, manifest_dir: Path = MANIFEST_DIR, output: Path) -> Path:
    """Write the Teams app zip (manifest.json, icons at its root) for `app_id` and the force's `links`."""
    if not isinstance(app_id, str) or _GUID.fullmatch(app_id) is None:
        raise ValueError(
            f"app id must be the bot's Microsoft App ID, a GUID such as "
            f"00000000-0000-0000-0000-000000000000; got {app_id!r}"
        )
    template = (manifest_dir / "manifest.json").read_text(encoding="utf-8")
    manifest_text = template.replace(APP_ID_PLACEHOLDER, app_id)
    for placeholder, value in links.placeholders().items():
        manifest_text = manifest_text.replace(placeholder, value)
    leftover = sorted(set(_ANY_PLACEHOLDER.findall(manifest_text)))
    if leftover:
        unfilled = ", ".join(leftover)
        raise ValueError(f"{manifest_dir / 'manifest.json'} has unfilled placeholders: {unfilled}")
    manifest = json.loads(manifest_text)

    icons: dict[str, bytes] = {}
    for name in manifest["icons"].values():
        # Teams reads icons from the zip root; a path would not resolve after sideloading.
        if Path(name).name != name:
            raise ValueError(f"icon {name!r} must be a file name at the package root, not a path")
        icons[name] = (manifest_dir / name).read_bytes()

    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w") as package:
        package.writestr(_entry("manifest.json"), manifest_text.encode("utf-8"))
        for name, content in icons.items():
            package.writestr(_entry(name), content)
    return output


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info
