"""The Teams app manifest, its icons and the app package built from them.

The manifest is checked against Microsoft's own JSON schema, taken from the npm package
`@microsoft/app-manifest` (fetched once into tests/.cache/, never copied into the repo). Without
npm or the network the schema test is skipped, with the reason; in CI (`CI=true`) that is an error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import FormatChecker
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from bot.cli import main
from bot.manifest import DEFAULT_OUTPUT, MANIFEST_DIR, Links, build_package

APP_MANIFEST_PACKAGE = "@microsoft/app-manifest"
APP_MANIFEST_VERSION = "1.1.2"
# From `npm view @microsoft/app-manifest@1.1.2 dist.integrity`: a damaged cache is fetched again.
APP_MANIFEST_INTEGRITY = (
    "sha512-uXdmYzhIcchi3Tc9Sh3pTDMe55zy7ge19bnYCGB1gzuyha85Ii7wfdTruwEhqseaX9pwsWDRB5Ot/ltv0rCONw=="  # noqa: E501
)
CACHE_DIR = Path(__file__).resolve().parents[1] / ".cache"
SCHEMA_URL = "https://developer.microsoft.com/en-us/json-schemas/teams/v{version}/MicrosoftTeams.schema.json"
PLACEHOLDER = "${{MICROSOFT_APP_ID}}"
LINKS = Links(
    website="https://www.cheshire.police.uk/",
    privacy="https://www.cheshire.police.uk/privacy",
    terms="https://www.cheshire.police.uk/terms",
)


def _filled(text: str) -> str:
    """The manifest as `build_package` writes it for DUMMY_APP_ID and LINKS."""
    for placeholder, value in {PLACEHOLDER: DUMMY_APP_ID, **LINKS.placeholders()}.items():
        text = text.replace(placeholder, value)
    return text


DUMMY_APP_ID = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"


def _manifest_text() -> str:
    return (MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8")


def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(_manifest_text())
    return manifest


# --- the official schema ------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def _integrity_ok(tarball: Path) -> bool:
    algorithm, _, expected = APP_MANIFEST_INTEGRITY.partition("-")
    digest = hashlib.new(algorithm, tarball.read_bytes()).digest()
    return base64.b64encode(digest).decode() == expected


def _fetch_tarball() -> Path:
    tarball = CACHE_DIR / f"microsoft-app-manifest-{APP_MANIFEST_VERSION}.tgz"
    if tarball.exists() and _integrity_ok(tarball):
        return tarball
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm is not installed: cannot fetch the Teams manifest schema")
    assert npm is not None
    CACHE_DIR.mkdir(exist_ok=True)
    # Pack into a scratch folder and move into place, so an interrupted fetch leaves no half file.
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as scratch:
        spec = f"{APP_MANIFEST_PACKAGE}@{APP_MANIFEST_VERSION}"
        try:
            done = subprocess.run(
                [npm, "pack", spec, "--pack-destination", scratch, "--loglevel", "error"],
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            _unavailable(f"`npm pack {spec}` did not run: {error}")
        packed = list(Path(scratch).glob("*.tgz"))
        if done.returncode != 0 or len(packed) != 1:
            _unavailable(f"`npm pack {spec}` failed (exit {done.returncode}): {done.stderr.strip()[:300]}")
        if not _integrity_ok(packed[0]):
            pytest.fail(f"{spec} does not match its pinned integrity {APP_MANIFEST_INTEGRITY}")
        packed[0].replace(tarball)
    return tarball


@pytest.fixture(scope="session")
def teams_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file shipped for the manifest's version, keyed by its official URL."""
    version = _manifest()["manifestVersion"]
    folder = f"package/build/json-schemas/teams/v{version}/"
    with tarfile.open(_fetch_tarball(), "r:gz") as tar:
        schemas = {}
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith(folder) and member.name.endswith(".json"):
                stream = tar.extractfile(member)
                assert stream is not None
                url = SCHEMA_URL.format(version=version).rsplit("/", 1)[0] + "/"
                schemas[url + member.name.removeprefix(folder)] = json.load(stream)
    if SCHEMA_URL.format(version=version) not in schemas:
        pytest.fail(f"{APP_MANIFEST_PACKAGE}@{APP_MANIFEST_VERSION} ships no schema v{version}")
    return schemas


def _uri(value: object) -> bool:
    # jsonschema checks "uri" only when rfc3987 is installed; this keeps the check without it.
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def test_manifest_is_valid_against_the_official_schema(
    teams_schemas: dict[str, dict[str, Any]],
) -> None:
    manifest = json.loads(_filled(_manifest_text()))
    url = SCHEMA_URL.format(version=manifest["manifestVersion"])
    # The files carry no id of their own: give each its official URL, so that any reference
    # between them resolves locally (nothing is retrieved over the network).
    registry: Registry[Any] = Registry().with_resources(
        (address, Resource.from_contents(contents, default_specification=DRAFT4))
        for address, contents in teams_schemas.items()
    )
    schema = {**teams_schemas[url], "id": url}
    validator_class = validator_for(schema)
    format_checker = FormatChecker()
    format_checker.checks("uri")(_uri)
    validator = validator_class(schema, registry=registry, format_checker=format_checker)

    errors = sorted(validator.iter_errors(manifest), key=lambda error: list(error.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, error.path)) or '(root)'}: {error.message}" for error in errors)


def test_schema_url_matches_the_manifest_version() -> None:
    manifest = _manifest()
    assert manifest["$schema"] == SCHEMA_URL.format(version=manifest["manifestVersion"])


def test_app_and_bot_share_the_app_id_placeholder() -> None:
    manifest = _manifest()
    assert manifest["id"] == PLACEHOLDER
    assert [bot["botId"] for bot in manifest["bots"]] == [PLACEHOLDER]


def test_command_lists_keep_to_the_teams_limits() -> None:
    """Teams shows at most 10 commands per list; titles ≤ 32, descriptions ≤ 128 characters."""
    (bot,) = _manifest()["bots"]
    listed_scopes = [scope for command_list in bot["commandLists"] for scope in command_list["scopes"]]
    assert sorted(listed_scopes) == sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    for command_list in bot["commandLists"]:
        titles = [command["title"] for command in command_list["commands"]]
        assert 1 <= len(titles) <= 10
        assert len(set(titles)) == len(titles)
        for command in command_list["commands"]:
            assert len(command["title"]) <= 32, command["title"]
            assert 0 < len(command.get("description", "")) <= 128, command["title"]


# --- icons --------------------------------------------------------------------------------------


def _read_png(path: Path) -> tuple[int, int, int, list[bytes]]:
    """Width, height, colour type and unfiltered rows of an 8-bit, non-interlaced PNG."""
    blob = path.read_bytes()
    assert blob[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    chunks: dict[bytes, bytes] = {}
    offset = 8
    while offset < len(blob):
        (length,) = struct.unpack(">I", blob[offset : offset + 4])
        kind = blob[offset + 4 : offset + 8]
        chunks[kind] = chunks.get(kind, b"") + blob[offset + 8 : offset + 8 + length]
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, interlace) == (8, 0), f"{path.name}: expected 8-bit, non-interlaced"
    pixel_bytes = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width * pixel_bytes
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        filter_type, row = line[0], bytearray(line[1:])
        for x in range(stride):
            left = row[x - pixel_bytes] if x >= pixel_bytes else 0
            up, up_left = previous[x], previous[x - pixel_bytes] if x >= pixel_bytes else 0
            if filter_type == 1:
                row[x] = (row[x] + left) & 0xFF
            elif filter_type == 2:
                row[x] = (row[x] + up) & 0xFF
            elif filter_type == 3:
                row[x] = (row[x] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                estimate = left + up - up_left
                nearest = min(
                    (abs(estimate - left), 0, left),
                    (abs(estimate - up), 1, up),
                    (abs(estimate - up_left), 2, up_left),
                )[2]
                row[x] = (row[x] + nearest) & 0xFF
        rows.append(bytes(row))
        previous = row
    return width, height, colour, rows


def test_colour_icon_is_192_pixels_in_full_colour() -> None:
    width, height, colour, rows = _read_png(MANIFEST_DIR / _manifest()["icons"]["color"])
    assert (width, height) == (192, 192)
    assert colour in (2, 6), "the colour icon must be truecolour (RGB or RGBA)"
    assert len({pixel for row in rows for pixel in zip(row[0::4], row[1::4], row[2::4], strict=True)}) > 2


def test_outline_icon_is_32_pixels_white_on_transparent() -> None:
    width, height, colour, rows = _read_png(MANIFEST_DIR / _manifest()["icons"]["outline"])
    assert (width, height, colour) == (32, 32, 6), "the outline icon must be a 32×32 RGBA PNG"
    pixels = [tuple(row[x : x + 4]) for row in rows for x in range(0, len(row), 4)]
    strays = {pixel for pixel in pixels if pixel[3] != 0 and pixel != (255, 255, 255, 255)}
    assert not strays, f"only opaque white or fully transparent pixels allowed, found {strays}"
    assert any(pixel[3] == 0 for pixel in pixels) and any(pixel[3] == 255 for pixel in pixels)


# --- the app package ----------------------------------------------------------------------------


def test_package_holds_manifest_and_icons_at_its_root(tmp_path: Path) -> None:
    output = build_package(DUMMY_APP_ID, LINKS, output=tmp_path / "out" / "app.zip")

    assert output == tmp_path / "out" / "app.zip"
    with zipfile.ZipFile(output) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        text = package.read("manifest.json").decode("utf-8")
        for icon in ("color.png", "outline.png"):
            assert package.read(icon) == (MANIFEST_DIR / icon).read_bytes()
    manifest = json.loads(text)
    assert manifest["id"] == DUMMY_APP_ID
    assert manifest["bots"][0]["botId"] == DUMMY_APP_ID
    assert "${{" not in text
    assert text == _filled(_manifest_text())
    assert manifest["developer"]["privacyUrl"] == LINKS.privacy
    assert manifest["validDomains"] == ["www.cheshire.police.uk"]


def test_package_is_reproducible(tmp_path: Path) -> None:
    first = build_package(DUMMY_APP_ID, LINKS, output=tmp_path / "first.zip")
    second = build_package(DUMMY_APP_ID, LINKS, output=tmp_path / "second.zip")
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    "app_id",
    [
        "",
        "not-a-guid",
        PLACEHOLDER,
        DUMMY_APP_ID.replace("-", ""),
        "{" + DUMMY_APP_ID + "}",
        DUMMY_APP_ID + "\n",
        DUMMY_APP_ID[:-1] + "g",
    ],
)
def test_package_refuses_an_app_id_that_is_not_a_guid(tmp_path: Path, app_id: str) -> None:
    with pytest.raises(ValueError, match="GUID"):
        build_package(app_id, LINKS, output=tmp_path / "app.zip")
    assert not (tmp_path / "app.zip").exists()


def test_package_refuses_a_placeholder_left_unfilled(tmp_path: Path) -> None:
    manifest_dir = tmp_path / "manifest"
    shutil.copytree(MANIFEST_DIR, manifest_dir)
    manifest = _manifest()
    manifest["validDomains"] = ["${{BOT_DOMAIN}}"]
    (manifest_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    with pytest.raises(ValueError, match=r"\$\{\{BOT_DOMAIN\}\}"):
        build_package(DUMMY_APP_ID, LINKS, manifest_dir=manifest_dir, output=tmp_path / "app.zip")
    assert not (tmp_path / "app.zip").exists()


@pytest.mark.parametrize("url", ["http://www.cheshire.police.uk/", "https://", "ftp://x.uk/", 'https://x.uk/"a'])
def test_package_refuses_links_that_are_not_https(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        build_package(
            DUMMY_APP_ID, Links(website=url, privacy=LINKS.privacy, terms=LINKS.terms), output=tmp_path / "a.zip"
        )
    assert not (tmp_path / "a.zip").exists()


def test_default_output_is_under_the_ignored_build_folder() -> None:
    assert Path("build") / "recbot-teams-app.zip" == DEFAULT_OUTPUT


def test_the_manifest_ships_in_the_wheel(tmp_path: Path) -> None:
    """`recbot manifest build` works from an installed wheel, not only from a checkout."""
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        check=True,
        cwd=tmp_path,
    )
    [wheel] = tmp_path.glob("recbot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    icons = set(_manifest()["icons"].values())
    assert {"manifest/__init__.py", "manifest/manifest.json"} | {f"manifest/{icon}" for icon in icons} <= names


def test_the_command_asks_for_the_forces_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for page in ("WEBSITE", "PRIVACY", "TERMS"):
        monkeypatch.delenv(f"RECBOT_{page}_URL", raising=False)
    output = tmp_path / "app.zip"
    assert main(["manifest", "build", "--app-id", DUMMY_APP_ID, "-o", str(output)]) == 2
    assert "--website-url" in capsys.readouterr().err and not output.exists()
    monkeypatch.setenv("RECBOT_PRIVACY_URL", LINKS.privacy)
    pages = ["--website-url", LINKS.website, "--terms-url", LINKS.terms]
    assert main(["manifest", "build", "--app-id", DUMMY_APP_ID, *pages, "-o", str(output)]) == 0
    with zipfile.ZipFile(output) as package:
        assert json.loads(package.read("manifest.json"))["developer"]["privacyUrl"] == LINKS.privacy
