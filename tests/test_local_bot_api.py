"""Tests for the local fake Bot API server (local_bot_api).

They run a bare PTB 22 bot against the server, so they also pin down the PTB
behaviour the e2e tests and the benchmark rely on (offset handling, 400 vs 404,
RetryAfter + AIORateLimiter, file download, webhook secret, clean shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    MenuButtonCommands,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    AIORateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from local_bot_api import Call, LocalBotApi, ServerProcess

pytestmark = pytest.mark.timeout(30)

USER = 42
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --------------------------------------------------------------------------- helpers
def raw_call(url: str, token: str, method: str, *, http_timeout: float = 10.0, **params) -> tuple[int, dict]:
    """POST form-encoded params like PTB does (non-strings JSON-encoded)."""
    data = urllib.parse.urlencode(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    ).encode()
    req = urllib.request.Request(f"{url}/bot{token}/{method}", data=data, method="POST")
    try:
        with OPENER.open(req, timeout=http_timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def echo(update: Update, context) -> None:
    await update.message.reply_text(update.message.text)


async def menu(update: Update, context) -> None:
    keyboard = [[InlineKeyboardButton("One", callback_data="pick:1"),
                 InlineKeyboardButton("Two", callback_data="pick:2")]]
    await update.message.reply_text("Choose", reply_markup=InlineKeyboardMarkup(keyboard))


async def on_button(update: Update, context) -> None:
    query = update.callback_query
    await query.answer(f"picked {query.data}")
    await query.edit_message_text(f"You picked {query.data}")


async def on_inline(update: Update, context) -> None:
    query = update.inline_query
    await query.answer(
        [InlineQueryResultArticle(id="r1", title=f"Echo {query.query}",
                                  input_message_content=InputTextMessageContent(query.query.upper()))],
        cache_time=5,
    )


async def on_document(update: Update, context) -> None:
    doc = update.message.document
    data = await (await doc.get_file()).download_as_bytearray()
    await update.message.reply_document(
        document=bytes(reversed(data)), filename="reversed.bin", caption=f"{doc.file_name}:{len(data)}"
    )


async def on_group_mention(update: Update, context) -> None:
    await update.message.reply_text("mentioned")


async def on_group_reply(update: Update, context) -> None:
    if update.message.reply_to_message.from_user.id == context.bot.id:
        await update.message.reply_text("thanks for replying")


def build_app(api: LocalBotApi | None = None, url: str | None = None, token: str | None = None, rate_limiter=None):
    """A bare bot with the handlers the tests need, pointed at the fake server."""
    from telegram.ext import Application

    if api is not None:
        builder = api.application_builder(token)
    else:
        builder = Application.builder().token(token).base_url(f"{url}/bot").base_file_url(f"{url}/file/bot")
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    app = builder.build()
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.Entity("mention"), on_group_mention))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.REPLY, on_group_reply))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(InlineQueryHandler(on_inline))
    return app


@contextlib.asynccontextmanager
async def polling(app):
    """Run ``app`` with long polling; stop it like run_polling() would."""
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=5)
        try:
            yield app
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()


@pytest.fixture
def api():
    with LocalBotApi() as server:
        yield server


# --------------------------------------------------------------------------- polling bot
@pytest.mark.asyncio
async def test_echo_roundtrip(api: LocalBotApi) -> None:
    async with polling(build_app(api)):
        api.push_message(USER, "hello")
        first = await api.wait_for_async("sendMessage", match={"chat_id": USER, "text": "hello"})
        api.push_message(USER, "again")
        second = await api.wait_for_async("sendMessage", match={"text": "again"})

    assert first.ok and first.result["from"] == api.bot_user()
    assert first.result["chat"]["id"] == USER and first.result["text"] == "hello"
    # message ids are per chat and shared by user and bot messages: 1 user, 2 bot, 3 user, 4 bot
    assert (first.result["message_id"], second.result["message_id"]) == (2, 4)
    assert api.calls_of("getMe") and api.calls_of("deleteWebhook")


@pytest.mark.asyncio
async def test_offset_honoured_no_update_delivered_twice(api: LocalBotApi) -> None:
    async with polling(build_app(api)):
        pushed = [api.push_message(USER, f"msg {i}")["update_id"] for i in range(5)]
        await api.wait_for_count_async("sendMessage", 5)
        # getUpdates calls are recorded when answered; one more round trip makes
        # sure the poll that confirmed msg 0-4 (offset > their ids) has completed
        api.push_message(USER, "last")
        await api.wait_for_async("sendMessage", match={"text": "last"})
        polls = api.calls_of("getUpdates", ok=True)
        delivered = [u["update_id"] for c in polls for u in c.result if u["update_id"] in pushed]
        assert any(c.params.get("offset", 0) > pushed[-1] for c in polls)

    assert sorted(delivered) == pushed and len(delivered) == len(set(delivered))
    texts = sorted(c.params["text"] for c in api.calls_of("sendMessage"))
    assert texts == sorted([f"msg {i}" for i in range(5)] + ["last"])
    assert api.pending_updates() == []  # PTB's final timeout=0 call confirmed "last" too


def test_get_updates_offset_limit_and_long_poll_raw(api: LocalBotApi) -> None:
    url, token = api.url, api.token
    assert raw_call(url, token, "getUpdates", timeout=0)[1]["result"] == []
    ids = [api.push_message(USER, t)["update_id"] for t in ("a", "b", "c")]
    assert [u["update_id"] for u in raw_call(url, token, "getUpdates", limit=2)[1]["result"]] == ids[:2]
    assert [u["update_id"] for u in raw_call(url, token, "getUpdates", offset=ids[1])[1]["result"]] == ids[1:]
    assert [u["update_id"] for u in raw_call(url, token, "getUpdates", offset=-1)[1]["result"]] == ids[2:]
    assert raw_call(url, token, "getUpdates", offset=ids[2] + 1)[1]["result"] == []

    # long poll: held until an update arrives, then answered at once
    result: dict = {}

    def poll() -> None:
        started = time.monotonic()
        result["body"] = raw_call(url, token, "getUpdates", timeout=5, offset=ids[2] + 1)[1]
        result["took"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    api.wait_until_polling()
    assert "body" not in result  # held open, not answered with []
    late = api.push_message(USER, "late")["update_id"]
    thread.join(3)
    assert [u["update_id"] for u in result["body"]["result"]] == [late]
    assert result["took"] < 2


@pytest.mark.asyncio
async def test_unknown_method_is_400_and_polling_continues(api: LocalBotApi) -> None:
    status, body = raw_call(api.url, api.token, "definitelyNotAMethod")
    assert (status, body) == (400, {"ok": False, "error_code": 400, "description": "Bad Request: method not found"})
    assert raw_call(api.url, "999:wrong", "getMe")[0] == 401

    async with polling(build_app(api)) as app:
        with pytest.raises(BadRequest, match=r"(?i)" + "method not found"):
            await app.bot.do_api_request("definitelyNotAMethod")
        api.push_message(USER, "still alive")
        await api.wait_for_async("sendMessage", match={"text": "still alive"})
        assert app.updater.running


@pytest.mark.asyncio
async def test_429_retry_after_with_aio_rate_limiter(api: LocalBotApi) -> None:
    api.fail_next("sendMessage", status=429, retry_after=1)
    async with polling(build_app(api, rate_limiter=AIORateLimiter(max_retries=2))):
        api.push_message(USER, "flood")
        ok_call = await api.wait_for_async("sendMessage", ok=True, timeout=6)

    failed, retried = api.calls_of("sendMessage")
    assert failed.status == 429 and failed.response == {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert retried is ok_call and retried.params["text"] == "flood"
    assert retried.time - failed.time >= 1.0


def test_dropped_slow_and_random_faults(api: LocalBotApi) -> None:
    """drop_next: no answer and nothing sent; delay_next: sent at once, answered late; inject_faults: a share."""
    import http.client

    api.drop_next("sendMessage")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        raw_call(api.url, api.token, "sendMessage", chat_id=USER, text="lost")
    assert api.chat_history(USER) == [] and api.calls_of("sendMessage")[0].status == 0

    api.delay_next("sendMessage", 0.6)
    started = time.time()
    status, body = raw_call(api.url, api.token, "sendMessage", chat_id=USER, text="slow")
    assert status == 200 and body["result"]["text"] == "slow" and time.time() - started >= 0.6
    assert api.calls_of("sendMessage", ok=True)[0].time - started < 0.3       # carried out before the wait

    api.inject_faults("sendMessage", 0.5, kinds=["500", "429"], seed=7)
    statuses = [raw_call(api.url, api.token, "sendMessage", chat_id=USER, text=str(i))[0] for i in range(60)]
    counts = api.fault_counts("sendMessage")
    assert counts["500"] == statuses.count(500) > 5 and counts["429"] == statuses.count(429) > 5
    assert len(api.chat_history(USER)) == 1 + statuses.count(200)
    api.inject_faults("sendMessage", 0)
    assert raw_call(api.url, api.token, "sendMessage", chat_id=USER, text="fine")[0] == 200
    with pytest.raises(ValueError):
        api.inject_faults("sendMessage", 0.1, kinds=["boom"])


@pytest.mark.asyncio
async def test_callback_query_roundtrip(api: LocalBotApi) -> None:
    async with polling(build_app(api)):
        api.push_message(USER, "/menu")
        sent = await api.wait_for_async("sendMessage", match={"text": "Choose"})
        markup = sent.params["reply_markup"]  # JSON field decoded back into an object
        assert markup["inline_keyboard"][0][1] == {"text": "Two", "callback_data": "pick:2"}
        assert sent.result["reply_markup"] == markup

        update = api.push_callback_query(USER, "pick:2", message=sent)
        answer = await api.wait_for_async("answerCallbackQuery")
        edit = await api.wait_for_async("editMessageText")

    assert answer.params == {"callback_query_id": update["callback_query"]["id"], "text": "picked pick:2"}
    assert edit.ok and edit.params["message_id"] == sent.result["message_id"]
    current = api.chat_history(USER)[-1]
    assert current["text"] == "You picked pick:2" and "reply_markup" not in current and "edit_date" in current


@pytest.mark.asyncio
async def test_inline_query_roundtrip(api: LocalBotApi) -> None:
    async with polling(build_app(api)):
        update = api.push_inline_query(USER, "abc")
        call = await api.wait_for_async("answerInlineQuery")

    assert call.ok and call.params["inline_query_id"] == update["inline_query"]["id"]
    assert call.params["cache_time"] == 5
    (result,) = call.params["results"]
    assert result["type"] == "article" and result["id"] == "r1"
    assert result["input_message_content"] == {"message_text": "ABC"}


@pytest.mark.asyncio
async def test_document_download_and_upload(api: LocalBotApi) -> None:
    content = b"hello file\x00\xff\xfe" * 100
    async with polling(build_app(api)):
        api.push_document(USER, "notes.txt", content, "text/plain")
        sent = await api.wait_for_async("sendDocument")

    download = api.wait_for("file_download")
    assert download.ok and download.params["file_path"].startswith("documents/")
    upload = sent.files["document"]
    assert upload.data == bytes(reversed(content)) and upload.filename == "reversed.bin"
    assert sent.params["caption"] == f"notes.txt:{len(content)}"
    doc = sent.result["document"]
    assert doc["file_name"] == "reversed.bin" and doc["file_size"] == len(content)
    assert api.file_bytes(doc["file_id"]) == upload.data  # the bot could re-download its upload


@pytest.mark.asyncio
async def test_group_mention_and_reply_to_bot(api: LocalBotApi) -> None:
    async with polling(build_app(api)):
        mention = api.push_group_message(7, "hi there", mention_bot=True)
        bot_msg = await api.wait_for_async("sendMessage", match={"text": "mentioned"})
        api.push_group_message(7, "a reply", reply_to_message=bot_msg)
        await api.wait_for_async("sendMessage", match={"text": "thanks for replying"})

    msg = mention["message"]
    assert msg["chat"]["type"] == "supergroup" and bot_msg.params["chat_id"] == msg["chat"]["id"]
    assert msg["entities"] == [{"type": "mention", "offset": 0, "length": len(api.bot_username) + 1}]


def test_pushed_updates_deserialize_in_ptb(api: LocalBotApi) -> None:
    bot_user = api.bot_user()
    cmd = Update.de_json(api.push_message(USER, f"😀 /start@{bot_user['username']} go"), None)
    assert cmd.message.parse_entities() == {cmd.message.entities[0]: f"/start@{bot_user['username']}"}
    assert Update.de_json(api.push_location(USER, 52.5, 13.4), None).message.location.latitude == 52.5
    assert Update.de_json(api.push_sticker(USER, "🔥"), None).message.sticker.emoji == "🔥"
    assert Update.de_json(api.push_photo(USER, caption="pic"), None).message.photo[-1].width == 1280
    assert Update.de_json(api.push_voice(USER, duration=3), None).message.voice.mime_type == "audio/ogg"
    doc = Update.de_json(api.push_document(USER, "a.pdf", b"%PDF"), None).message.document
    assert (doc.file_name, doc.mime_type, doc.file_size) == ("a.pdf", "application/pdf", 4)
    original = api.push_message(USER, "typo")
    edited = Update.de_json(api.push_edited_message(USER, original, "fixed"), None).edited_message
    assert edited.text == "fixed" and edited.edit_date is not None
    inline = Update.de_json(api.push_inline_query(USER, "q"), None).inline_query
    assert inline.query == "q" and inline.from_user.id == USER
    group = Update.de_json(api.push_group_message(9, "yo", chat_type="group", title="G"), None).message
    assert group.chat.type == "group" and group.chat.title == "G" and group.from_user.id == 9
    update_ids = [u["update_id"] for u in api.pending_updates()]
    assert update_ids == list(range(1, len(update_ids) + 1))


@pytest.mark.asyncio
async def test_misc_methods_parse_in_ptb(api: LocalBotApi) -> None:
    """Results of the other implemented methods must de-serialize into PTB objects."""
    from telegram import BotCommand

    group = -1001002003004
    api.push_group_message(USER, "setup", chat_id=group)
    api.set_chat_member(group, api.bot_user()["id"], "administrator")
    bot = api.application_builder().build().bot
    async with bot:
        assert await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
        assert api.commands()[1] == {"command": "help", "description": "Help"}
        assert await bot.delete_my_commands() and await bot.get_my_commands() == ()
        with pytest.raises(BadRequest, match=r"(?i)" + "BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Bad-Name", "x")])
        assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
        assert (await bot.get_chat(USER)).type == "private"
        assert (await bot.get_chat_member(group, bot.id)).status == "administrator"
        assert (await bot.get_chat_member(group, USER)).status == "member"
        venue = await bot.send_venue(USER, 52.5, 13.4, title="Cafe", address="Main St 1")
        assert venue.venue.title == "Cafe" and venue.location.longitude == 13.4
        assert (await bot.send_location(USER, 1.5, 2.5)).location.latitude == 1.5
        assert await bot.send_chat_action(USER, "typing")
        html = await bot.send_message(USER, "<b>bold</b> &amp; <a href='https://x.y'>link</a>", parse_mode="HTML")
        assert html.text == "bold & link" and [e.type for e in html.entities] == ["bold", "text_link"]
        with pytest.raises(BadRequest, match=r"(?i)" + "can't parse entities"):
            await bot.send_message(USER, "1 < 2 <br>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
            await bot.send_message(USER, "Hello.", parse_mode="MarkdownV2")
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x")]])
        edited = await bot.edit_message_reply_markup(USER, html.message_id, reply_markup=keyboard)
        assert edited.reply_markup == keyboard
        with pytest.raises(BadRequest, match=r"(?i)" + "message is not modified"):
            await bot.edit_message_reply_markup(USER, html.message_id, reply_markup=keyboard)
        assert await bot.delete_message(USER, html.message_id)
        with pytest.raises(BadRequest, match=r"(?i)" + "message to delete not found"):
            await bot.delete_message(USER, html.message_id)
        photo = await bot.send_photo(USER, photo=b"\xff\xd8fake-jpeg", caption="pic")
        assert (await bot.get_file(photo.photo[-1].file_id)).file_path.startswith(f"{api.base_file_url}")
        assert await bot.set_webhook("https://example.invalid/hook", secret_token="abc")
        info = await bot.get_webhook_info()
        assert info.url == "https://example.invalid/hook" and api.webhook_info()["secret_token"] == "abc"
        assert await bot.delete_webhook() and (await bot.get_webhook_info()).url == ""
        assert await bot.log_out() and await bot.close()
        api.block_user(USER)
        with pytest.raises(Exception, match="blocked by the user"):
            await bot.send_message(USER, "hi")


def test_wait_for_timeout_lists_recent_calls(api: LocalBotApi) -> None:
    raw_call(api.url, api.token, "getMe")
    with pytest.raises(AssertionError, match=r"(?s)sendMessage.*getMe"):
        api.wait_for("sendMessage", timeout=0.2)
    mark = api.mark()
    raw_call(api.url, api.token, "sendMessage", chat_id=USER, text="x")
    assert api.wait_for("sendMessage", since=mark).index == mark
    api.clear()
    assert api.calls == []


def test_multiple_tokens_are_isolated() -> None:
    with LocalBotApi(["111:AAA", "222:BBB"]) as api:
        assert raw_call(api.url, "111:AAA", "getMe")[1]["result"]["id"] == 111
        assert raw_call(api.url, "222:BBB", "getMe")[1]["result"]["id"] == 222
        api.push_message(USER, "for bot 2", token="222:BBB")
        assert raw_call(api.url, "111:AAA", "getUpdates")[1]["result"] == []
        assert raw_call(api.url, "222:BBB", "getUpdates")[1]["result"][0]["message"]["text"] == "for bot 2"


# --------------------------------------------------------------------------- webhook
@pytest.mark.asyncio
async def test_webhook_delivery_and_secret_token(api: LocalBotApi) -> None:
    port = free_port()
    app = build_app(api)
    async with app:
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook", secret_token="s3cret",
        )
        try:
            hook = await api.wait_for_async("setWebhook")
            assert hook.params["url"] == f"http://127.0.0.1:{port}/hook" and hook.params["secret_token"] == "s3cret"
            # queued updates are delivered to the webhook automatically
            api.push_message(USER, "via webhook")
            await api.wait_for_async("sendMessage", match={"text": "via webhook"})
            assert raw_call(api.url, api.token, "getUpdates")[0] == 409

            update = api.push_message(USER, "manual", enqueue=False)
            assert await api.post_webhook_async(update, secret_token=None) == 403
            assert await api.post_webhook_async(update, secret_token="wrong") == 403
            assert await api.post_webhook_async(update) == 200
            await api.wait_for_async("sendMessage", match={"text": "manual"})
        finally:
            await app.updater.stop()
            await app.stop()
    assert [d["status"] for d in api.webhook_deliveries()] == [200]


# --------------------------------------------------------------------------- lifecycle
@pytest.mark.asyncio
async def test_clean_shutdown_does_not_hang(api: LocalBotApi) -> None:
    app = build_app(api)
    async with polling(app):
        await api.wait_until_polling_async()  # the bot sits in a long poll
        started = time.monotonic()
    took = time.monotonic() - started

    assert took < 2.0
    last = api.calls_of("getUpdates")[-1]
    assert last.ok and last.params["timeout"] == 0  # PTB's final "confirm" call, answered at once
    assert all(c.ok for c in api.calls_of("getUpdates"))  # the cancelled long poll is not recorded

    # a client still hanging in a long poll must not keep the server alive
    hung: dict = {}
    thread = threading.Thread(target=lambda: hung.setdefault("r", _swallow(api, timeout=30)))
    thread.start()
    await api.wait_until_polling_async()
    started = time.monotonic()
    await asyncio.to_thread(api.stop)
    await asyncio.to_thread(thread.join, 5)
    assert time.monotonic() - started < 2.0 and not thread.is_alive()


def _swallow(api: LocalBotApi, timeout: int):
    try:
        return raw_call(api.url, api.token, "getUpdates", http_timeout=timeout + 5, timeout=timeout)
    except Exception as exc:  # connection closed by the stopping server
        return exc


@pytest.mark.slow
@pytest.mark.asyncio
async def test_standalone_process_and_control_endpoint() -> None:
    token = "777:PROC-TOKEN"
    started = time.monotonic()
    with ServerProcess(token) as proc:
        remote = proc.client
        assert proc.url.startswith("http://127.0.0.1:") and remote.health()["tokens"] == [token]
        async with polling(build_app(url=proc.url, token=token)):
            await remote.wait_until_polling_async()
            remote.push_message(USER, "remote hi")
            call = await remote.wait_for_async("sendMessage", match={"text": "remote hi"})
            assert isinstance(call, Call) and call.result["chat"]["id"] == USER

            remote.fail_next("sendMessage", status=400, description="Bad Request: injected")
            remote.push_message(USER, "will fail")
            failed = await remote.wait_for_async("sendMessage", lambda c: not c.ok)
            assert failed.description == "Bad Request: injected"

            remote.push_document(USER, "r.bin", b"\x00\x01remote")
            sent = await remote.wait_for_async("sendDocument")
            assert sent.files["document"].data == bytes(reversed(b"\x00\x01remote"))

            mark = remote.mark()
            remote.batch([("push_message", {"user_id": 100 + i, "text": f"bulk {i}"}) for i in range(30)])
            bulk = await remote.wait_for_count_async("sendMessage", 30, since=mark, ok=True)
            assert sorted(c.params["chat_id"] for c in bulk) == list(range(100, 130))
        assert [c.method for c in remote.calls_of("getUpdates")][-1] == "getUpdates"
        code = proc.stop()
    assert code == 0 and time.monotonic() - started < 10


@pytest.mark.slow
@pytest.mark.asyncio
async def test_throughput_echo_500_messages(api: LocalBotApi) -> None:
    n = 500
    async with polling(build_app(api)):
        api.push_message(USER, "warmup")
        await api.wait_for_async("sendMessage")
        mark = api.mark()
        started = time.perf_counter()
        for i in range(n):
            api.push_message(1000 + i % 20, f"m{i}")
        calls = await api.wait_for_count_async("sendMessage", n, since=mark, timeout=20)
        took = time.perf_counter() - started
    print(f"\n{n} echoes in {took:.2f}s ({n / took:.0f} msg/s)")
    assert {c.params["text"] for c in calls} == {f"m{i}" for i in range(n)}
    assert took < 10
