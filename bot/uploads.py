"""Import by upload: an admin drops a PCC response or a tracker into their 1:1 chat with RecBot.

How Teams delivers it (manifest `supportsFiles: true`; "Send and receive files using bot", Teams
docs): the file goes to the sender's OneDrive, and the bot gets a message whose attachment has
contentType `application/vnd.microsoft.teams.file.download.info`, the file's name in `name` and,
in `content`, a pre-authenticated `downloadUrl` valid for a few minutes and the `fileType`. Only in
personal chats: in channels and group chats the bot gets no such attachment. A file a user sends
needs no consent card (that is for files the bot sends).

The flow: refuse anyone but an admin before fetching anything → fetch the file (https, no
redirects, capped while streaming, with a timeout) → parse it and answer a preview card
(services/importing.py keeps the parsed reports under a random token) → Import or Cancel arrive as
`adaptiveCard/action` invokes carrying only that token, answered with the card that replaces the
preview.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import aiohttp
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.card_actions import invoke_error
from bot.cards.common import Reply, to_activity
from bot.cards.imports import CANCEL_VERB, IMPORT_VERB, render_upload
from bot.config import Settings
from bot.people import PeopleDirectory
from domain.failures import describe_failure
from domain.text import one_line, safe_text
from services.importers import DocumentError
from services.importers.files import MAX_FILE_BYTES, read_document
from services.importing import FILE_NAME_LIMIT, UploadImports, refuse_unsupported

log = logging.getLogger(__name__)

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
ACTION_VERBS = (IMPORT_VERB, CANCEL_VERB)
# Where Teams puts files sent to a bot: the sender's OneDrive for Business, i.e. SharePoint Online
# (commercial, GCC, and the national clouds' SharePoint hosts).
DOWNLOAD_HOST_SUFFIXES = (".sharepoint.com", ".sharepoint.us", ".sharepoint-mil.us", ".sharepoint.cn", ".sharepoint.de")
# Teams gives the bot about 15 seconds to answer a message; a response document is tens of KB.
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=30, sock_connect=10, sock_read=15)
CHUNK_BYTES = 64 * 1024
REPLY_LIMIT = 1000

PERSONAL_ONLY = (
    "I can import a file only in our 1:1 chat: open a chat with RecBot and send it there. Nothing was imported."
)
TEAMS_ONLY = "I import files sent to me in Teams, in our 1:1 chat. Nothing was imported."
NO_LINK = "Teams didn't give me a way to download {name}, so nothing was imported. Please send the file again."
ONE_AT_A_TIME = "I import one file at a time, so I've read only {name}. Send the others one by one."


class DownloadFailed(Exception):
    """The file could not be fetched; the message says so in plain words, for the person who sent it."""


@dataclass(frozen=True)
class SentFile:
    """A file a person sent in a personal chat, as Teams describes it."""

    name: str
    download_url: str


def file_attachments(activity: Activity) -> list[Attachment]:
    """The attachments of a message that are files sent to the bot (not cards, images or the HTML copy)."""
    return [
        attachment
        for attachment in activity.attachments or []
        if isinstance(attachment, Attachment) and attachment.content_type == FILE_DOWNLOAD_INFO
    ]


def has_file(activity: Activity) -> bool:
    """True when a message carries a file sent to the bot."""
    return activity.type == ActivityTypes.message and bool(file_attachments(activity))


def is_upload_action(activity: Activity) -> bool:
    """True when an `adaptiveCard/action` invoke is the Import or Cancel of an upload preview."""
    value = activity.value
    action = value.get("action") if isinstance(value, dict) else None
    return isinstance(action, dict) and action.get("verb") in ACTION_VERBS


def sent_file(attachment: Attachment) -> SentFile | None:
    """The name and download link of a file attachment, or None when Teams sent neither."""
    content = attachment.content if isinstance(attachment.content, dict) else {}
    url = content.get("downloadUrl")
    if not isinstance(url, str) or not url:
        return None
    name = attachment.name if isinstance(attachment.name, str) and attachment.name.strip() else ""
    if not name and isinstance(content.get("fileType"), str):
        name = f"the file.{content['fileType']}"
    return SentFile(one_line(name or "the file", FILE_NAME_LIMIT), url)


def download_refusal(url: str, *, local_mode: bool) -> str | None:
    """Why RecBot will not fetch `url`, or None.

    With authentication on, only https on SharePoint Online, where Teams keeps the files people
    send, with no credentials or port in the URL: even if a crafted activity named another URL,
    the bot cannot be made to reach into the network it runs in. In local mode (nothing is
    authenticated, the bot runs on a developer's machine) any http(s) URL, e.g. a test stub's.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the download link Teams gave is not a valid URL"
    host = (parts.hostname or "").lower()
    if not host:
        return "the download link Teams gave has no host"
    if local_mode:
        return None if parts.scheme in ("http", "https") else "the download link Teams gave is not http(s)"
    if parts.scheme != "https":
        return "the download link Teams gave is not https"
    if parts.username is not None or parts.password is not None or port not in (None, 443):
        return "the download link Teams gave is not a plain SharePoint link"
    if not host.endswith(DOWNLOAD_HOST_SUFFIXES):
        return "the download link Teams gave is not on SharePoint Online, where Teams keeps files sent to bots"
    return None


async def download(url: str, *, cap: int = MAX_FILE_BYTES, timeout: aiohttp.ClientTimeout = DOWNLOAD_TIMEOUT) -> bytes:
    """The file at `url`, streamed and cut off one byte past `cap` (the reader then refuses it as too large).

    No redirects (a redirect could lead anywhere), no cookies, no proxy from the environment.
    """
    received = bytearray()
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            if response.status != 200:
                raise DownloadFailed(
                    f"Teams answered {response.status} when I fetched it (the link lasts a few minutes)"
                )
            # Counted while reading, whatever Content-Length claims: at most cap + 1 bytes are ever held.
            async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                received += chunk
                if len(received) > cap:
                    return bytes(received[: cap + 1])
    except TimeoutError as error:
        raise DownloadFailed("fetching it from Teams took too long") from error
    except aiohttp.ClientError as error:
        raise DownloadFailed("I couldn't fetch it from Teams") from error
    return bytes(received)


class Uploads:
    """Receives files sent to RecBot and answers the Import / Cancel buttons of their previews."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        people: PeopleDirectory,
        now: Callable[[], datetime],
        *,
        fetch: Callable[[str], Awaitable[bytes]] = download,
    ) -> None:
        self._local_mode = not settings.authentication_enabled
        self._people = people
        self._fetch = fetch
        self.imports = UploadImports(sessionmaker, now=now, bootstrap_admins=settings.admins)

    async def receive(self, turn_context: TurnContext) -> None:
        """Answer a message carrying a file: a preview card, or why it cannot be imported."""
        await self._send(turn_context, await self._preview(turn_context))

    async def _preview(self, turn_context: TurnContext) -> Reply:
        activity = turn_context.activity
        conversation_type = activity.conversation.conversation_type or "personal"
        # Teams delivers downloadable files only in personal chats: anything else is not fetched.
        if activity.channel_id != "msteams":
            return Reply(TEAMS_ONLY)
        if conversation_type != "personal":
            return Reply(PERSONAL_ONLY)
        identity = await self._people.identify(turn_context)
        refused = await self.imports.refusal(identity)
        if refused is not None:
            return render_upload(refused)
        assert identity is not None  # refusal() refuses nobody
        attachments = file_attachments(activity)
        sent = sent_file(attachments[0])
        if sent is None:
            return Reply(
                NO_LINK.format(
                    name=safe_text(one_line(attachments[0].name or "the file", FILE_NAME_LIMIT), FILE_NAME_LIMIT)
                )
            )
        if len(attachments) > 1:
            await self._send(turn_context, Reply(ONE_AT_A_TIME.format(name=safe_text(sent.name, FILE_NAME_LIMIT))))
        try:
            refuse_unsupported(sent.name)
            refusal = download_refusal(sent.download_url, local_mode=self._local_mode)
            if refusal is not None:
                log.warning("refused to fetch an uploaded file: %s", refusal)
                raise DownloadFailed(refusal)
            await turn_context.send_activity(Activity(type=ActivityTypes.typing))
            data = await self._fetch(sent.download_url)
            if len(data) > MAX_FILE_BYTES:
                read_document(sent.name, data)  # the reader's own "larger than … MB" refusal
            result = await self.imports.preview(
                sent.name, data, uploader=identity, conversation_id=activity.conversation.id
            )
        except DocumentError as error:
            # The reader's own words: what is wrong with the file and what to do (the name is the sender's).
            return Reply(safe_text(f"{str(error).rstrip('.')}. Nothing was imported.", REPLY_LIMIT))
        except DownloadFailed as error:
            name = safe_text(sent.name, FILE_NAME_LIMIT)
            return Reply(f"I couldn't read {name}: {error}. Nothing was imported; please send it again.")
        return render_upload(result)

    async def answer(self, turn_context: TurnContext) -> InvokeResponse:
        """Import or Cancel from a preview card: the card that replaces it, or a message when nothing can be done."""
        activity = turn_context.activity
        action = activity.value["action"]  # is_upload_action checked its shape
        if action.get("type") != "Action.Execute":
            return invoke_error(400, "BadRequest", "This card action is malformed: it is not an Action.Execute.")
        data = action.get("data")
        token = data.get("upload") if isinstance(data, dict) else None
        identity = await self._people.identify(turn_context)
        if action.get("verb") == IMPORT_VERB:
            result = await self.imports.confirm(token, identity)
        else:
            result = await self.imports.cancel(token, identity)
        reply = render_upload(result)
        if reply.card is None:
            # Refused, expired or busy: the card stays as it was, the person is told why.
            return InvokeResponse(
                status=200,
                body={"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": reply.text},
            )
        await self._replace(turn_context, reply)
        return InvokeResponse(
            status=200, body={"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": reply.card}
        )

    @staticmethod
    async def _replace(turn_context: TurnContext, reply: Reply) -> None:
        """Replace the preview message itself, so every device the admin uses shows the outcome."""
        message_id = turn_context.activity.reply_to_id
        if not message_id:
            return
        updated = to_activity(reply)
        updated.id = message_id
        updated.type = ActivityTypes.message
        try:
            await turn_context.update_activity(updated)
        except Exception as error:  # noqa: BLE001 - the import is done; the invoke answer shows it anyway
            log.warning("could not replace the preview card of message %s: %s", message_id, describe_failure(error))

    @staticmethod
    async def _send(turn_context: TurnContext, reply: Reply) -> None:
        await turn_context.send_activity(to_activity(reply))
