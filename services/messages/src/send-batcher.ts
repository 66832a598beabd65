import { type OutboxEventInput, outboxRows, writeOutbox } from "@beep/bus";
import { BeepError } from "@beep/errors";
import { newId } from "@beep/ids";
import type { Kysely, Transaction } from "kysely";
import { type AttachmentRow, AttachmentsRepository } from "./attachments.repository.ts";
import { messageEventView } from "./message-views.ts";
import type { MessageRow, MessagesRepository } from "./messages.repository.ts";
import { MESSAGES_SCHEMA } from "./messages.schema-name.ts";
import type { MentionSet, MessagesTables } from "./messages.tables.ts";
import { readStateEvent, type SendBatchExtras } from "./send-extras.ts";

/** A checked send waiting for its commit. */
export interface PendingSend {
  serverId: string;
  channelId: string;
  authorId: string;
  content: string;
  nonce: string | null;
  replyToId: string | null;
  /** The thread it goes into (MSG-13); absent or null for the channel. */
  threadId?: string | null;
  mentions: MentionSet;
  /** Pending uploads to attach (checked for count and duplicates; ownership is checked here, locked). */
  attachmentIds?: readonly string[];
}

/** The committed message, and whether this send created it (false: an earlier send had the nonce). */
export interface SendOutcome {
  row: MessageRow;
  created: boolean;
}

interface Waiting {
  send: PendingSend;
  resolve(outcome: SendOutcome): void;
  reject(error: unknown): void;
}

/** Batcher settings. */
export interface SendBatcherOptions {
  /** Sends per transaction at most. */
  maxBatch: number;
  /** Transactions in flight at once; further sends queue and go in the next batch. */
  maxInFlight: number;
}

/**
 * The write path of sends: group commit. Sends arriving while earlier batches are committing queue up
 * and go together in the next transaction, one commit (one WAL flush) for the whole batch. A lone send
 * goes at once (next turn of the event loop), so batching adds no latency when idle. Nothing is
 * acknowledged before its transaction has committed.
 *
 * Round trips, each of which waits a turn of a busy event loop, and a channel's lock held across those
 * between its taking and the commit caps the channel's throughput. A batch of plain sends (no reply,
 * attachment or thread; nonces allowed) is ONE: an autocommit statement (messages.send_batch, migration
 * 0011) that locks, allocates the ids, writes the messages, read positions and events, and commits — the
 * locks are held only while PostgreSQL executes it. Any other batch, or one of which a nonce is already
 * stored (the function then writes nothing), takes the general path (write): four — BEGIN; the channel
 * locks with the newest ids and now() (lockChannelsLatest); the messages, read positions and events
 * (insertSendBatch); COMMIT — plus one read of the replied messages for replies, their lock and attach
 * statements for attachments, the activity read for threads, and a nonce duplicate's lookup and separate
 * read-position statement.
 *
 * Ordering: on both paths ids are allocated inside the transaction after the channel's advisory lock is
 * taken, and each is above both a fresh snowflake and the channel's newest committed id; the lock is held
 * until commit. So within a channel, id order = commit order = order of `message.created` events, on any
 * number of processes and whatever their clocks, and a reader who has seen id X has every smaller id
 * of the channel already committed (an `after` cursor never skips a late commit).
 */
export class SendBatcher {
  private readonly queue: Waiting[] = [];
  private readonly attachments: AttachmentsRepository;
  private inFlight = 0;
  private scheduled = false;
  /** Transactions committed, sends they carried, and batches written by one statement (tests and metrics). */
  readonly stats = { batches: 0, sends: 0, oneStatement: 0 };

  constructor(
    private readonly deps: {
      db: Kysely<MessagesTables>;
      repo: MessagesRepository;
      attachments?: AttachmentsRepository;
      /** Read states and threads moved by the batch, in its transaction (send-extras.ts). */
      extras?: SendBatchExtras;
    },
    private readonly options: SendBatcherOptions = { maxBatch: 256, maxInFlight: 2 },
  ) {
    this.attachments = deps.attachments ?? new AttachmentsRepository();
  }

  /** Resolves once the message is committed (or found by its nonce). */
  send(send: PendingSend): Promise<SendOutcome> {
    return new Promise<SendOutcome>((resolve, reject) => {
      this.queue.push({ send, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // Why setImmediate: sends made in the same turn (a burst of requests) join one batch.
    setImmediate(() => {
      this.scheduled = false;
      if (this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      void this.commit(batch).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
      this.schedule();
    });
  }

  private async commit(batch: Waiting[]): Promise<void> {
    try {
      const outcomes =
        (await this.writePlain(batch)) ??
        (await this.deps.db.transaction().execute((trx) => this.write(trx, batch)));
      this.stats.batches += 1;
      this.stats.sends += batch.length;
      batch.forEach((waiting, i) => {
        const outcome = outcomes[i]!;
        if (outcome instanceof Error) waiting.reject(outcome);
        else waiting.resolve(outcome);
      });
    } catch (error) {
      // PostgreSQL refused the statement for what some send holds: it wrote nothing, so each send is tried
      // alone, in order (the channel's id order), and only the one at fault fails, not everyone batched
      // with it. Any other failure (connection lost, commit in doubt) is not retried: that could store a
      // send twice.
      if (batch.length > 1 && isRefusedForItsData(error)) {
        for (const waiting of batch) await this.commit([waiting]);
        return;
      }
      for (const waiting of batch) waiting.reject(error);
    }
  }

  /**
   * A batch of plain sends (nonces allowed) as one autocommit statement (messages.send_batch, migration
   * 0011): per item its outcome; null — nothing written — when the batch is not all plain or a nonce of it
   * is already stored, for {@link write} to handle.
   */
  private async writePlain(batch: Waiting[]): Promise<Array<SendOutcome | Error> | null> {
    const { repo, extras } = this.deps;
    const { writers, followers } = nonceLeaders(batch);
    const sends = writers.map((i) => batch[i]!.send);
    if (!sends.every(isPlain)) return null;
    // Provisional rows whose ids are their batch positions: within a channel, batch order is id order (each
    // id is above the previous one of its channel), and that is all readMoves compares. SQL fills in the ids
    // and created_at, in the rows and in the events built from them.
    const provisional = sends.map((send, k) => storedRow(send, k.toString(), new Date(0)));
    const moves = extras ? extras.readMoves(provisional) : [];
    // The order of the moves' events on the general path: by the id of each (author, channel)'s first row.
    const firstRows = new Map<string, number>();
    provisional.forEach((row, k) => {
      const key = `${row.author_id}:${row.channel_id}`;
      if (!firstRows.has(key)) firstRows.set(key, k);
    });
    const moveEvents = outboxRows(moves.map(readStateEvent));
    const stored = await repo.sendBatch(this.deps.db, {
      rows: sends.map((send) => ({
        freshId: newId(),
        serverId: send.serverId,
        channelId: send.channelId,
        authorId: send.authorId,
        content: send.content,
        nonce: send.nonce,
        mentions: send.mentions,
      })),
      created: outboxRows(provisional.map((row) => createdEvent(row, NO_REPLIES, []))),
      moves: moves.map((move, m) => ({
        row: Number(move.messageId),
        firstRow: firstRows.get(`${move.userId}:${move.channelId}`)!,
        event: moveEvents[m]!,
      })),
    });
    if (stored === null) return null;
    this.stats.oneStatement += 1;
    const outcomes: Array<SendOutcome | Error | undefined> = new Array(batch.length);
    writers.forEach((i, k) => {
      const { id, created_at } = stored[k]!;
      outcomes[i] = { row: storedRow(batch[i]!.send, id, created_at), created: true };
    });
    shareWithFollowers(outcomes, followers);
    return outcomes.map((o) => o ?? new Error("send was not processed"));
  }

  /** One transaction for the whole batch; per item an outcome or the error refusing it. */
  private async write(
    trx: Transaction<MessagesTables>,
    batch: Waiting[],
  ): Promise<Array<SendOutcome | Error>> {
    const { repo, extras } = this.deps;
    const outcomes: Array<SendOutcome | Error | undefined> = new Array(batch.length);
    const { writers, followers } = nonceLeaders(batch);

    // Locks first: every read below (replied messages, uploads, newest ids) sees all earlier commits.
    const { latest, now } = await repo.lockChannelsLatest(
      trx,
      writers.map((i) => batch[i]!.send.channelId),
    );
    const replyIds = writers.flatMap((i) => batch[i]!.send.replyToId ?? []);
    // The replied messages themselves: their channel checks the reply, and the event carries the reference.
    const replied = new Map((await repo.findMany(trx, replyIds)).map((row) => [row.id, row]));
    const replyChannels = new Map([...replied.values()].map((row) => [row.id, row.channel_id]));
    // Attachments: only the author's pending uploads to this channel, each once (locked until commit).
    const wanted = writers.flatMap((i) => batch[i]!.send.attachmentIds ?? []);
    const uploads = new Map((await this.attachments.lockMany(trx, wanted)).map((row) => [row.id, row]));
    const claimed = new Set<string>();
    const accepted: number[] = [];
    for (const i of writers) {
      const { replyToId, channelId, authorId, attachmentIds = [] } = batch[i]!.send;
      if (replyToId !== null && replyChannels.get(replyToId) !== channelId) {
        outcomes[i] = new BeepError("BAD_USER_INPUT", "Reply to a message of this channel", {
          field: "replyToId",
        });
        continue;
      }
      const usable = attachmentIds.every((id) => {
        const upload = uploads.get(id);
        return (
          upload !== undefined &&
          upload.uploader_id === authorId &&
          upload.channel_id === channelId &&
          upload.message_id === null &&
          !claimed.has(id)
        );
      });
      if (!usable) {
        outcomes[i] = new BeepError("BAD_USER_INPUT", "Attach your own pending uploads to this channel", {
          field: "attachmentIds",
        });
        continue;
      }
      for (const id of attachmentIds) claimed.add(id);
      accepted.push(i);
    }

    // The rows exactly as the insert stores them (column defaults included: created_at is the
    // transaction's now()), so their events can be written by the insert statement itself.
    const rows: MessageRow[] = accepted.map((i) => {
      const send = batch[i]!.send;
      const fresh = BigInt(newId());
      const floor = (latest.get(send.channelId) ?? 0n) + 1n;
      const id = fresh > floor ? fresh : floor;
      latest.set(send.channelId, id);
      return storedRow(send, id.toString(), now);
    });
    const inIdOrder = [...rows].sort(byId);
    const created = (row: MessageRow, attached: readonly AttachmentRow[]) =>
      createdEvent(row, replied, attached);
    // The common batch (no attachments) is written by one statement: messages, read positions and events.
    // An attachment must be attached (below) before its message's event is built.
    const eventsInInsert = accepted.every((i) => (batch[i]!.send.attachmentIds ?? []).length === 0);
    const moves = eventsInInsert && extras ? extras.readMoves(inIdOrder) : [];
    const insertedIds = await repo.insertSendBatch(trx, {
      rows,
      moves,
      events: eventsInInsert
        ? [
            ...outboxRows(inIdOrder.map((row) => created(row, []))).map((event, k) => ({
              ...event,
              ifInserted: inIdOrder[k]!.id,
            })),
            ...outboxRows(moves.map(readStateEvent)).map((event, k) => ({
              ...event,
              ifMoved: { userId: moves[k]!.userId, channelId: moves[k]!.channelId },
            })),
          ]
        : [],
    });
    const attached: AttachmentRow[] = [];
    for (const [k, i] of accepted.entries()) {
      const ids = batch[i]!.send.attachmentIds ?? [];
      // A nonce duplicate inserted nothing: its uploads stay pending.
      if (ids.length > 0 && insertedIds.has(rows[k]!.id)) {
        attached.push(...(await this.attachments.attach(trx, rows[k]!.id, ids)));
      }
    }
    const duplicates: number[] = [];
    accepted.forEach((i, k) => {
      const row = rows[k]!;
      if (insertedIds.has(row.id)) outcomes[i] = { row, created: true };
      else duplicates.push(i);
    });
    if (duplicates.length > 0) {
      const existing = await repo.findByNonces(
        trx,
        duplicates.map((i) => {
          const s = batch[i]!.send;
          return { channelId: s.channelId, authorId: s.authorId, nonce: s.nonce ?? "" };
        }),
      );
      const byKey = new Map(existing.map((r) => [`${r.channel_id}:${r.author_id}:${r.nonce}`, r]));
      for (const i of duplicates) {
        const s = batch[i]!.send;
        const row = byKey.get(`${s.channelId}:${s.authorId}:${s.nonce}`);
        outcomes[i] = row
          ? { row, created: false }
          : new BeepError("CONFLICT", "The message with this nonce is being written; retry", {
              field: "nonce",
            });
      }
    }
    shareWithFollowers(outcomes, followers);

    // What the insert statement did not write, after what it did (the outbox keeps the batch's order:
    // message.created in id order, then the rest). The statement moved no read position if it skipped a
    // nonce duplicate (its moves counted that message): they are moved here from what was inserted.
    const inserted = inIdOrder.filter((row) => insertedIds.has(row.id));
    const later: OutboxEventInput[] = eventsInInsert ? [] : inserted.map((row) => created(row, attached));
    if (extras) {
      if (!eventsInInsert || inserted.length < rows.length) {
        later.push(...(await extras.advance(trx, extras.readMoves(inserted))));
      }
      later.push(...(await extras.afterInsert(trx, inserted)));
    }
    await writeOutbox(trx, MESSAGES_SCHEMA, later);
    return outcomes.map((o) => o ?? new Error("send was not processed"));
  }
}

/**
 * Which sends of a batch write: the same (channel, author, nonce) twice in one batch is written once, by
 * its first send (the leader); the later ones (followers, mapped to their leader) share its message.
 */
function nonceLeaders(batch: readonly Waiting[]): { writers: number[]; followers: Map<number, number> } {
  const leaders = new Map<string, number>();
  const followers = new Map<number, number>();
  batch.forEach(({ send }, i) => {
    if (send.nonce === null) return;
    const key = `${send.channelId}:${send.authorId}:${send.nonce}`;
    const leader = leaders.get(key);
    if (leader === undefined) leaders.set(key, i);
    else followers.set(i, leader);
  });
  return { writers: batch.map((_, i) => i).filter((i) => !followers.has(i)), followers };
}

/** A follower gets its leader's outcome, as not created (an earlier send had the nonce). */
function shareWithFollowers(
  outcomes: Array<SendOutcome | Error | undefined>,
  followers: ReadonlyMap<number, number>,
): void {
  for (const [i, leader] of followers) {
    const outcome = outcomes[leader];
    outcomes[i] =
      outcome instanceof Error || outcome === undefined ? outcome : { ...outcome, created: false };
  }
}

/** What a plain send's event looks up its reply in: a plain send has none. */
const NO_REPLIES: ReadonlyMap<string, MessageRow> = new Map();

/** A send with no reply, attachment or thread: what messages.send_batch writes. */
function isPlain(send: PendingSend): boolean {
  return send.replyToId === null && send.threadId == null && (send.attachmentIds ?? []).length === 0;
}

/** The row the insert stores for `send` (column defaults included). */
function storedRow(send: PendingSend, id: string, createdAt: Date): MessageRow {
  return {
    id,
    server_id: int8Text(send.serverId),
    channel_id: int8Text(send.channelId),
    thread_id: send.threadId == null ? null : int8Text(send.threadId),
    author_id: int8Text(send.authorId),
    content: send.content,
    nonce: send.nonce,
    created_at: createdAt,
    edited_at: null,
    reply_to_id: send.replyToId === null ? null : int8Text(send.replyToId),
    pinned_at: null,
    pinned_by: null,
    mentions: send.mentions,
    embeds: [],
  };
}

/** The `message.created` event of a stored row. */
function createdEvent(
  row: MessageRow,
  replied: ReadonlyMap<string, MessageRow>,
  attached: readonly AttachmentRow[],
): OutboxEventInput {
  return {
    type: "message.created",
    payload: {
      serverId: row.server_id,
      channelId: row.channel_id,
      message: messageEventView(row, replied, attached),
    },
  };
}

/** An int8 as PostgreSQL prints it (a thread id is checked as digits only, so it may carry leading zeros). */
function int8Text(value: string): string {
  return BigInt(value).toString();
}

function byId(a: MessageRow, b: MessageRow): number {
  return BigInt(a.id) < BigInt(b.id) ? -1 : 1;
}

/** A statement PostgreSQL refused for its data: SQLSTATE class 22 (data exception) or 23 (integrity). */
function isRefusedForItsData(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}
