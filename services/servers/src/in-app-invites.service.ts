import { BeepError } from "@beep/errors";
import { type Kysely, sql } from "kysely";
import { type AccessReader, emit, isId, notFound } from "./server-access.ts";
import type { ServersRepository } from "./servers.repository.ts";
import type { Caller, ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";

/** What InAppInvitesService needs. */
export interface InAppInvitesServiceDeps {
  db: Kysely<ServersTables>;
  repo: ServersRepository;
  access: AccessReader;
  /** Creates the invite itself, with createInvite's rules (SRV-4, SRV-8). */
  servers: ServersService;
  now?: () => Date;
}

/** An invite sent to one user, as its recipient (or its sender) sees it. */
export interface InAppInviteView {
  code: string;
  serverId: string;
  serverName: string;
  inviterId: string;
  recipientId: string;
  /** ISO-8601. */
  expiresAt: string;
  createdAt: string;
}

/** An in-app invite lasts a week and serves one join. */
const IN_APP_INVITE_SECONDS = 7 * 24 * 3600;

const iso = (value: Date | string) => new Date(value).toISOString();

/** In-app invites (SRV-3): sent to one user, listed as pending, accepted by joining with the code, declined. */
export class InAppInvitesService {
  private readonly now: () => Date;

  constructor(private readonly deps: InAppInvitesServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Creates a one-use, one-week invite for `recipientId` (with createInvite's rules) and tells them
   * (`invite.received`); sending again replaces the pending one. A member cannot be invited (CONFLICT).
   */
  async send(caller: Caller, serverId: string, recipientId: string): Promise<InAppInviteView> {
    if (!isId(recipientId)) throw notFound("member", "userId");
    if (recipientId === caller.userId) {
      throw new BeepError("BAD_USER_INPUT", "You cannot invite yourself", { field: "userId" });
    }
    const { db, repo } = this.deps;
    return db.transaction().execute(async (trx) => {
      const access = await this.deps.access.load(trx, serverId, caller.userId, true);
      if (await repo.isMember(trx, serverId, recipientId)) {
        throw new BeepError("CONFLICT", "This user is already a member", { field: "userId" });
      }
      const invite = await this.deps.servers.insertInvite(trx, access, {
        maxAgeSeconds: IN_APP_INVITE_SECONDS,
        maxUses: 1,
        recipientId,
      });
      // Replaces a pending one: its code is revoked, so only the newest works.
      const previous = await trx
        .deleteFrom("in_app_invites")
        .where("server_id", "=", serverId)
        .where("recipient_id", "=", recipientId)
        .returning("code")
        .executeTakeFirst();
      if (previous) await repo.revokeInvite(trx, previous.code, this.now());
      await trx
        .insertInto("in_app_invites")
        .values({
          server_id: serverId,
          recipient_id: recipientId,
          code: invite.code,
          inviter_id: caller.userId,
        })
        .execute();
      const view: InAppInviteView = {
        code: invite.code,
        serverId,
        serverName: access.server.name,
        inviterId: caller.userId,
        recipientId,
        expiresAt: invite.expires_at ? iso(invite.expires_at) : "",
        createdAt: iso(invite.created_at),
      };
      await emit(trx, [
        {
          type: "invite.received",
          payload: {
            serverId,
            userId: recipientId,
            invite: {
              code: view.code,
              serverId,
              serverName: view.serverName,
              inviterId: view.inviterId,
              expiresAt: view.expiresAt,
            },
          },
        },
      ]);
      return view;
    });
  }

  /** The caller's pending in-app invites (still usable), newest first. */
  async listMine(caller: Caller): Promise<InAppInviteView[]> {
    const rows = await sql<{
      code: string;
      server_id: string;
      server_name: string;
      inviter_id: string;
      expires_at: Date | null;
      created_at: Date;
    }>`
      select i.code, i.server_id, s.name as server_name, i.inviter_id, v.expires_at, i.created_at
        from servers.in_app_invites i
        join servers.invites v on v.code = i.code
        join servers.servers s on s.id = i.server_id
       where i.recipient_id = ${caller.userId}
         and v.revoked_at is null
         and (v.expires_at is null or v.expires_at > ${this.now()})
         and (v.max_uses = 0 or v.uses < v.max_uses)
       order by i.created_at desc, i.server_id desc
       limit 200`.execute(this.deps.db);
    return rows.rows.map((row) => ({
      code: row.code,
      serverId: String(row.server_id),
      serverName: row.server_name,
      inviterId: String(row.inviter_id),
      recipientId: caller.userId,
      expiresAt: row.expires_at ? iso(row.expires_at) : "",
      createdAt: iso(row.created_at),
    }));
  }

  /** Declines one of the caller's in-app invites: it is removed and its code revoked. NOT_FOUND if not theirs. */
  async decline(caller: Caller, code: string): Promise<string> {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(code)) throw notFound("invite", "code");
    return this.deps.db.transaction().execute(async (trx) => {
      const removed = await trx
        .deleteFrom("in_app_invites")
        .where("code", "=", code)
        .where("recipient_id", "=", caller.userId)
        .returning("code")
        .executeTakeFirst();
      if (!removed) throw notFound("invite", "code");
      await this.deps.repo.revokeInvite(trx, code, this.now());
      return code;
    });
  }
}
