"""docs/benchmarks.md and docs/benchmarks.png from one run's results."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

KIND_LABELS = {
    "floor": "floor (aiohttp + Core select + reply, no project code)",
    "baseline": "baseline (aiohttp + RecBot's ORM select + reply)",
    "recbot": "RecBot",
    "recbot-sdk": "RecBot, SDK connector (before)",
}
# The profile of a status question, written by hand, shown under the status tables.
FINDINGS = Path(__file__).with_name("findings.md")
TARGET_RATIO, TARGET_P99 = 0.5, 50.0
TARGET_DIGEST_SECONDS = 10.0
TARGET_IMPORT_SECONDS, IMPORT_TARGET_ITEMS = 2.0, 10_000
TARGET_READY_SECONDS = 1.5
DIGEST_TARGET_SIZE = (5000, 200)
TARGET_PARSE_MS, PARSE_TARGET_SIZE = 50.0, 30_000
# With the caps lifted: ten times the text, at most this many times the time (quadratic is 100).
TARGET_PARSE_GROWTH = 25.0


def _plot(results: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    status = results.status
    backends = sorted({row["backend"] for row in status}, key=lambda name: name != "sqlite")
    extra = bool(results.updates or results.digests)
    columns = max(2 if extra else 1, len(backends))
    rows = (2 if status else 0) + (1 if extra else 0)
    if rows == 0:
        return
    figure, axes = plt.subplots(rows, columns, figsize=(6 * columns, 3.5 * rows), squeeze=False)
    if extra:
        _plot_updates(axes[rows - 1][0], results.updates)
        _plot_digests(axes[rows - 1][1], results.digests)
        for column in range(2, columns):
            axes[rows - 1][column].axis("off")
    if not status:
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        return
    for column in range(len(backends), columns):
        axes[0][column].axis("off")
        axes[1][column].axis("off")
    for column, backend in enumerate(backends):
        rows = [row for row in status if row["backend"] == backend]
        kinds = [kind for kind in KIND_LABELS if any(row["kind"] == kind for row in rows)]
        levels = sorted({row["concurrency"] for row in rows})
        width = 0.8 / max(1, len(kinds))
        axis = axes[0][column]
        for index, kind in enumerate(kinds):
            by_level = {row["concurrency"]: row for row in rows if row["kind"] == kind}
            positions = [level_index + index * width for level_index in range(len(levels))]
            axis.bar(positions, [by_level[level]["throughput"] for level in levels], width, label=KIND_LABELS[kind])
        axis.set_xticks([level_index + width * (len(kinds) - 1) / 2 for level_index in range(len(levels))])
        axis.set_xticklabels([f"c={level}" for level in levels])
        axis.set_ylabel("answers per second")
        axis.set_title(f"status questions, closed loop, {backend}")
        axis.set_ylim(top=axis.get_ylim()[1] * 1.3)  # room for the legend
        axis.legend(fontsize=8)
        _plot_open_loop(axes[1][column], [row for row in results.open_loop if row["backend"] == backend], backend)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _plot_open_loop(axis: Any, rows: list[dict[str, Any]], backend: str) -> None:
    loads = list(dict.fromkeys(row["load"] for row in rows))
    kinds = [kind for kind in KIND_LABELS if any(row["kind"] == kind for row in rows)]
    width = 0.8 / max(1, len(kinds))
    for index, kind in enumerate(kinds):
        by_load = {row["load"]: row for row in rows if row["kind"] == kind}
        positions = [load_index + index * width for load_index in range(len(loads))]
        axis.bar(positions, [by_load[load]["p99"] for load in loads], width, label=KIND_LABELS[kind])
    rates = {row["load"]: row["rate"] for row in rows}
    axis.set_xticks([load_index + width * (len(kinds) - 1) / 2 for load_index in range(len(loads))])
    shorts = {row["load"]: row["short"] for row in rows}
    axis.set_xticklabels([f"{shorts[load]}\n{rates[load]:.0f}/s" for load in loads], fontsize=8)
    axis.axhline(TARGET_P99, color="red", linestyle="--", linewidth=1, label="p99 target")
    axis.set_ylabel("p99 latency (ms)")
    axis.set_title(f"status questions at a given rate (open loop), {backend}")
    axis.set_ylim(top=axis.get_ylim()[1] * 1.3)
    axis.legend(fontsize=8)


def _plot_updates(axis: Any, updates: list[dict[str, Any]]) -> None:
    labels = [f"{row['backend']}\nc={row['concurrency']}" for row in updates]
    positions = range(len(updates))
    axis.bar(
        [p - 0.2 for p in positions], [row["turns_per_second"] for row in updates], 0.4, label="RecBot dialog turns/s"
    )
    axis.bar([p + 0.2 for p in positions], [row["floor_throughput"] for row in updates], 0.4, label="floor requests/s")
    for position, row in zip(positions, updates, strict=True):
        axis.annotate(
            f"{row['dialogs_per_second']:.1f} dialogs/s",
            (position - 0.2, row["turns_per_second"]),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axis.set_xticks(list(positions))
    axis.set_xticklabels(labels)
    axis.set_ylabel("per second")
    axis.set_title("whole update dialogs (7 turns each)")
    axis.legend(fontsize=8)


def _plot_digests(axis: Any, digests: list[dict[str, Any]]) -> None:
    backends = sorted({row["backend"] for row in digests}, key=lambda name: name != "sqlite")
    sizes = sorted({(row["items"], row["subscriptions"]) for row in digests})
    width = 0.8 / max(1, len(backends))
    for index, backend in enumerate(backends):
        by_size = {(row["items"], row["subscriptions"]): row for row in digests if row["backend"] == backend}
        positions = [s + index * width for s in range(len(sizes))]
        heights = [by_size[size]["seconds"] if size in by_size else 0 for size in sizes]
        axis.bar(positions, heights, width, label=backend)
        for position, size in zip(positions, sizes, strict=True):
            if size in by_size:
                axis.annotate(
                    f"{by_size[size]['statements']} stmts",
                    (position, by_size[size]["seconds"]),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    axis.axhline(TARGET_DIGEST_SECONDS, color="red", linestyle="--", linewidth=1, label="target")
    axis.set_xticks([s + width * (len(backends) - 1) / 2 for s in range(len(sizes))])
    axis.set_xticklabels([f"{items} items\n{subs} subs" for items, subs in sizes], fontsize=8)
    axis.set_ylabel("seconds (plan + compose)")
    axis.set_title("digest run, dry (SQL statements on bars)")
    axis.legend(fontsize=8)


def _ratio(row: dict[str, Any], name: str) -> str:
    """A row's median ratio, with its lowest and highest round when there were several."""
    if row["rounds"] > 1 and row[f"{name}_low"] != row[f"{name}_high"]:
        return f"{row[name]:.2f} ({row[f'{name}_low']:.2f}–{row[f'{name}_high']:.2f})"
    return f"{row[name]:.2f}"


def _open_loop_lines(open_loop: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "### Latency at a given rate (open loop)",
        "",
        "A closed loop keeps 16 requests in flight whatever the server's speed, so its latency is queueing:",
        "by Little's law the mean is 16 ÷ throughput, and even the baseline's p99 at c=16 is well over 50 ms on",
        "this machine (table above). No server here can have a p99 under 50 ms there. People are an open loop:",
        "a question comes when someone asks it, whether or not others are waiting. Here questions arrive at",
        "random (Poisson) at a fixed rate: first 16 people at once, each asking a question a second on average",
        "(quicker than anyone reads a card); then shares of the floor's c=16 throughput measured above, to show",
        f"where the latency turns. The p99 target ({TARGET_P99:g} ms) applies to 16 people and to 25 % of the floor.",
        "",
        "| database | server | load | offered /s | answers/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in open_loop:
        verdict = ""
        if row["kind"] == "recbot" and row["target"]:
            verdict = " ✅" if row["p99"] < TARGET_P99 and not row["errors"] else " ❌"
        lines.append(
            f"| {row['backend']} | {KIND_LABELS[row['kind']]} | {row['load']} | {row['rate']:.0f} | {row['throughput']:.0f} | "
            f"{row['p50']:.1f} | {row['p95']:.1f} | {row['p99']:.1f}{verdict} | {row['errors']} |"
        )
    return lines + [""]


def _turns_over(row: dict[str, Any], reference: str) -> float:
    """RecBot's turn rate over a reference's rate measured in the same run (NaN if it measured nothing)."""
    return float(row["turns_per_second"] / row[reference]) if row[reference] else float("nan")


def _update_lines(updates: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Update dialogs",
        "",
        "A whole update dialog, seven turns from the load process over HTTP against `bench.serve recbot`",
        "(“update REF” → In progress → at risk → narrative → skip → skip → confirm), each turn waiting for the",
        "previous one's answer; each load user has their own personal chat and is an admin (`RECBOT_ADMINS`,",
        "recognised from the e-mail the stub connector gives on the bot's one member look-up per user).",
        "Dialogs spread over 8 items of two reports. Afterwards the `updates` table is checked: every dialog",
        "the load finished (including those still running at the end of the window) must have stored",
        "exactly one row, found by its confirm turn's activity id, and no other rows may have appeared.",
        "“× floor” and “× baseline” are RecBot's turn rate over the floor's and the baseline's request rates at",
        f"the same concurrency (status questions, same run). Target: a turn at least {TARGET_RATIO} × floor.",
        "“× stateful floor” is RecBot's turn rate over the stateful floor's (bench/floor.py: the same dialogs,",
        "each turn reading and writing the sender's state row and replying one line; same run): what the",
        "stack itself costs a turn of a conversation that remembers where it is.",
        "",
        "| database | concurrency | dialogs/s | turns/s | × floor | × baseline | stateful floor turns/s | × stateful floor | dialog p50 ms | dialog p95 ms | turn p50 ms | turn p99 ms | dialogs done | rows stored | missing | doubled | failed dialogs | one row each |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in updates:
        ratio, floor_ratio, stateful_ratio = (
            _turns_over(row, reference)
            for reference in ("baseline_throughput", "floor_throughput", "stateful_floor_turns")
        )
        verdict = " ✅" if floor_ratio >= TARGET_RATIO else " ❌"
        lines.append(
            f"| {row['backend']} | {row['concurrency']} | {row['dialogs_per_second']:.1f} | {row['turns_per_second']:.0f} | "
            f"{floor_ratio:.2f}{verdict} | {ratio:.2f} | {row['stateful_floor_turns']:.0f} | "
            f"{stateful_ratio:.2f} | {row['dialog_p50']:.0f} | {row['dialog_p95']:.0f} | {row['turn_p50']:.1f} | {row['turn_p99']:.1f} | "
            f"{row['completed']} | {row['rows_added']} | {row['missing']} | {row['doubled']} | {row['errors']} | "
            f"{'✅ yes' if row['exactly_once'] and not row['errors'] else '❌ no'} |"
        )
    return lines + [""]


def _digest_lines(digests: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Digest composition",
        "",
        "One run planned and composed in the runner process (`services.digest_plan.plan_run`, then `compose_digest`",
        "and `compose_nudge` for every message: `recbot digest run --dry-run` without the printing) at a Monday",
        "09:30 when every subscription is due, over a generated tracker written straight into a new database:",
        "reports of 500 items, 40 owners with Teams chats (so nudges are planned too), updates (a tenth of the items",
        "updated in the last week), events and delegates; three quarters of the subscriptions are channels (half",
        "for one report), a quarter personal. SQL statements are counted with a `before_cursor_execute`",
        "listener on a fresh engine; “cold” is the first run on that engine, “warm” a second one. Sending is not",
        "included (it adds one claim and one outcome per message, whatever the number of items).",
        "",
        f"Targets: under {TARGET_DIGEST_SECONDS:g} s for {DIGEST_TARGET_SIZE[0]:,} items and {DIGEST_TARGET_SIZE[1]} "
        "subscriptions; statement count independent of the number of items.",
        "",
        "| database | items | subscriptions | digests | nudges | seconds (cold) | plan s | compose s | warm s | SQL statements | largest message bytes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in digests:
        verdict = ""
        if (row["items"], row["subscriptions"]) == DIGEST_TARGET_SIZE:
            verdict = " ✅" if row["seconds"] < TARGET_DIGEST_SECONDS else " ❌"
        lines.append(
            f"| {row['backend']} | {row['items']:,} | {row['subscriptions']} | {row['digests']} | {row['nudges']} | "
            f"{row['seconds']:.2f}{verdict} | {row['plan_seconds']:.2f} | {row['compose_seconds']:.2f} | "
            f"{row['warm_seconds']:.2f} | {row['statements']} | {row['largest_bytes']:,} |"
        )
    lines.append("")
    for backend in sorted({row["backend"] for row in digests}, key=lambda name: name != "sqlite"):
        counts = {row["statements"] for row in digests if row["backend"] == backend}
        by_items: dict[int, set[int]] = {}
        for row in digests:
            if row["backend"] == backend:
                by_items.setdefault(row["subscriptions"], set()).add(row["statements"])
        independent = all(len(values) == 1 for values in by_items.values())
        lines.append(
            f"- {backend}: statement count independent of the number of items: "
            f"{'✅ yes' if independent else '❌ no'} (counts seen: {', '.join(str(c) for c in sorted(counts))})."
        )
    return lines + [""]


def _extension_lines(extension: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Invokes: message-extension search and card refreshes",
        "",
        "`composeExtension/query` invokes (the search box of the message extension, `bot/extension.py`) over HTTP",
        f"at concurrency {extension[0]['concurrency']} (closed loop, channels of 50 people), beside status questions for",
        "the same references, on one database (the seed and a 500-item report), one server at a time in the same run.",
        "By reference (“OIC-2025 R8”) the extension runs the status question's own lookup; by words (“hydra training”)",
        "the free-text search (`services/search_index.py`: a version query, the ranking over the texts cached in the",
        "process, the ranked items by id). Rows marked “10,000 items” repeat the baseline and status question on a",
        "second database (the seed and 10,000 generated items) beside free-text questions and words queries. An invoke is",
        "answered in its HTTP response; a status question also posts its reply to the stub connector. The card refresh",
        "is the `adaptiveCard/action` invoke Teams sends when someone who may act views a status card (Universal",
        "Actions): who is asking, their rights, and the card rebuilt for them. Target: the refresh ≥ 0.5 × baseline.",
        "",
        "| database | what | concurrency | answers/s | × baseline | × status question | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in extension:
        versus = f"{row['vs_status']:.2f}" if row["vs_status"] is not None else ""
        lines.append(
            f"| {row['backend']} | {row['what']} | {row['concurrency']} | {row['throughput']:.0f} | {row['ratio']:.2f} | "
            f"{versus} | {row['p50']:.1f} | {row['p95']:.1f} | {row['p99']:.1f} | {row['errors']} |"
        )
    return lines + [""]


def _import_lines(imports: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Imports",
        "",
        "`services.importing.import_file` as `recbot import` runs it (read the file, parse it, store every report",
        "in one transaction), into a new database, timed from the file to the commit; then the same file again,",
        "which must change nothing. The floor is the same rows (reports, people, items, updates, ids included)",
        "read back and written into another new database with one SQLAlchemy Core executemany per table in one",
        "transaction, in the same run: storing them with no parsing, no look-ups and no idempotence. Generated",
        "trackers have an owner (among 40) and an initial update per item, about 330 characters an item.",
        "",
        f"Target: the {IMPORT_TARGET_ITEMS:,}-item tracker under {TARGET_IMPORT_SECONDS:g} s on each database.",
        "",
        "| database | what | import s | × floor | floor s | re-import s | rows | same rows as the floor | re-import changed nothing |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in imports:
        verdict = ""
        if row["items"] == IMPORT_TARGET_ITEMS:
            verdict = " ✅" if row["seconds"] < TARGET_IMPORT_SECONDS else " ❌"
        ratio = row["seconds"] / row["floor_seconds"] if row["floor_seconds"] else float("nan")
        lines.append(
            f"| {row['backend']} | {row['what']} | {row['seconds']:.2f}{verdict} | {ratio:.1f} | "
            f"{row['floor_seconds']:.2f} | {row['reimport_seconds']:.2f} | {row['rows']:,} | "
            f"{'✅ yes' if row['same_rows'] else '❌ no'} | {'✅ yes' if row['idempotent'] else '❌ no'} |"
        )
    return lines + [""]


def _milliseconds(value: float) -> str:
    return f"{value:.2f}" if value >= 0.005 else "<0.01"


def _parser_lines(parsers: list[dict[str, Any]]) -> list[str]:
    classes = list(dict.fromkeys(row["class"] for row in parsers))
    sizes = sorted({row["size"] for row in parsers})
    lines = [
        "## Parsers on adversarial text",
        "",
        "Every parser that reads what a person typed or a document holds (`bench/parsers.py`), fed text made of one",
        f"class of the characters its patterns read ({', '.join(classes)}): one unit of the class",
        "repeated, alone, between two letters and, for `parse_intent`, after the opening words of commands. A",
        f"figure is the slowest input in ms (the class columns at {PARSE_TARGET_SIZE:,} characters), each input timed as",
        "the fastest of three runs. `parse_intent, caps lifted` reads the whole text instead of its first 500",
        "characters, to show that the patterns themselves grow linearly.",
        "",
        f"Targets: under {TARGET_PARSE_MS:g} ms at {PARSE_TARGET_SIZE:,} characters (about Teams' message limit) for every",
        f"parser; with the caps lifted, ten times the text at most {TARGET_PARSE_GROWTH:g} times the time (a quadratic",
        "pattern takes about 100 times).",
        "",
        f"| parser | {' | '.join(classes)} | {' | '.join(f'worst at {size:,}' for size in sizes)} |",
        "|---|" + "---:|" * (len(classes) + len(sizes)),
    ]
    slowest = []
    for name in dict.fromkeys(row["parser"] for row in parsers):
        mine = [row for row in parsers if row["parser"] == name]
        at_target = {row["class"]: row for row in mine if row["size"] == PARSE_TARGET_SIZE}
        worst = {
            size: max((row for row in mine if row["size"] == size), key=lambda row: row["worst_ms"]) for size in sizes
        }
        cells = [_milliseconds(at_target[kind]["worst_ms"]) if kind in at_target else "" for kind in classes]
        for size in sizes:
            verdict = ""
            if size == PARSE_TARGET_SIZE and mine[0]["target"] == "growth" and size // 10 in worst:
                growth = worst[size]["worst_ms"] / max(worst[size // 10]["worst_ms"], 1e-9)
                verdict = f" (×{growth:.0f}) {'✅' if growth <= TARGET_PARSE_GROWTH else '❌'}"
            elif size == PARSE_TARGET_SIZE:
                verdict = " ✅" if worst[size]["worst_ms"] < TARGET_PARSE_MS else " ❌"
            cells.append(f"{_milliseconds(worst[size]['worst_ms'])}{verdict}")
        lines.append(f"| `{name}` | {' | '.join(cells)} |")
        if PARSE_TARGET_SIZE in worst:
            slowest.append(f"- `{name}`: `` {worst[PARSE_TARGET_SIZE]['input']} ``")
    if slowest:
        lines += ["", f"The slowest input of each parser at {PARSE_TARGET_SIZE:,} characters:", "", *slowest]
    return lines + [""]


def write_report(results: Any, output: Path, *, machine: str, seconds: float, rounds: int, elapsed: float) -> None:
    """Write the markdown report and its PNG beside it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    png = output.with_suffix(".png")
    _plot(results, png)
    lines = [
        "# RecBot benchmarks",
        "",
        "Generated by `python -m bench` (see `bench/README.md`); do not edit by hand.",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {machine}; whole run {elapsed:.0f} s.",
        "",
        "Machines here are noisy, so figures are compared with references **measured in the same run**. The",
        "**floor** (`bench/floor.py`) is the bare stack with no project code in it: aiohttp parses the activity",
        "JSON, SQLAlchemy Core runs one indexed select on a pooled connection (no ORM session), and a one-line",
        "reply is POSTed to the same stub Bot Connector. The **baseline** (`bench/baseline.py`) is the same over",
        "RecBot's own ORM query (`storage.tracker.find_items`). Servers run in their own process, the",
        "load in another (closed loop, Teams-shaped personal-chat activities from 50 conversations), the stub",
        "connector in the runner. Latency is the whole HTTP exchange, including the reply posted to the connector.",
        "RecBot runs without its digest scheduler (`run_scheduler=False`) so that its minutely run is not measured.",
        "",
        f"Targets: status questions — throughput at c=16 at least {TARGET_RATIO} of the floor's, p99 under "
        f"{TARGET_P99:g} ms with 16 people asking at once and at a quarter of the floor's rate (open loop, see below); update dialogs — a turn at least {TARGET_RATIO} of the floor's request rate; digest — under {TARGET_DIGEST_SECONDS:g} s for 5,000 items / 200 subscriptions with a statement "
        "count independent of the items; imports — a 10,000-item tracker under 2 s; start-up — /readyz under 1.5 s, RSS under 200 MB. ✅ met, ❌ missed.",
        "",
        "## Status questions",
        "",
        f"Closed loop: each level is measured in {rounds} rounds of {seconds:g} s, the servers taking turns (the order",
        "reversed every other round), so that the machine's slow and fast moments fall on every server alike.",
        "“× floor” and “× baseline” are the medians over the rounds of a server's throughput over the floor's and",
        "the baseline's in the same round, with the lowest and highest round in brackets; latencies are pooled",
        "over the rounds.",
        "",
        "| database | server | concurrency | answers/s | × floor | × baseline | p50 ms | p95 ms | p99 ms | errors | replies seen |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results.status:
        verdict = ""
        if row["concurrency"] == 16 and row["kind"] == "recbot":
            verdict = " ✅" if row["floor_ratio"] >= TARGET_RATIO else " ❌"
        lines.append(
            f"| {row['backend']} | {KIND_LABELS[row['kind']]} | {row['concurrency']} | {row['throughput']:.0f} | "
            f"{_ratio(row, 'floor_ratio')}{verdict} | {_ratio(row, 'ratio')} | {row['p50']:.1f} | {row['p95']:.1f} | "
            f"{row['p99']:.1f} | {row['errors']} | {row['replies']} |"
        )
    if results.open_loop:
        lines += _open_loop_lines(results.open_loop)
    lines += [
        "",
        f"![throughput and p99 latency]({png.name})",
        "",
    ]
    if results.status:
        lines += [FINDINGS.read_text(encoding="utf-8").rstrip(), ""]
    if results.imports:
        lines += _import_lines(results.imports)
    lines += [
        "",
        "## Start-up and memory (`recbot serve` as a subprocess, 10,000 items)",
        "",
        "`recbot serve` started as a subprocess (three starts, the median; the bytecode of the project's own",
        "modules is compiled at each start when `PYTHONDONTWRITEBYTECODE` is set, as in this checkout), polled",
        "until `/readyz` answers 200 (the database answered a query). Memory is read from `/proc/<pid>/status`",
        "after start-up and again after questions that read every item (a free-text search, `list overdue`, a",
        f"status question, `my recommendations`). Targets: /readyz under {TARGET_READY_SECONDS:g} s, RSS under 200 MB.",
        "",
        "| database | /readyz after s (median) | starts s | RSS at start MB | RSS after reading all items MB | peak RSS MB |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for row in results.startup:
        ready = row["ready_seconds"]
        fast = ready is not None and ready < TARGET_READY_SECONDS
        small = row["peak_rss_mb"] < 200
        starts = ", ".join("–" if start is None else f"{start:.2f}" for start in row["starts"])
        lines.append(
            f"| {row['backend']} | {ready if ready is not None else float('nan'):.2f}{' ✅' if fast else ' ❌'} | "
            f"{starts} | {row['idle_rss_mb']:.0f} | {row['loaded_rss_mb']:.0f} | "
            f"{row['peak_rss_mb']:.0f}{' ✅' if small else ' ❌'} |"
        )
    lines.append("")
    if results.updates:
        lines += _update_lines(results.updates)
    if results.digests:
        lines += _digest_lines(results.digests)
    if results.extension:
        lines += _extension_lines(results.extension)
    if results.parsers:
        lines += _parser_lines(results.parsers)
    if results.pending:
        lines += ["## Not measured", ""]
        lines += [f"- **{pending.name}**: {pending.reason}" for pending in results.pending]
    if results.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in results.notes]
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")
