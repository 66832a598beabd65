import { CallerAuthenticator, createAccessTokenVerifier, RevokedSessions } from "@beep/auth";
import type { BlobStore } from "@beep/blob";
import { type Bus, type BusSubscription, OutboxRelay } from "@beep/bus";
import type { BeepConfig } from "@beep/config";
import { type DatabaseHandle, migrateSchema, serviceDatabase } from "@beep/db";
import { defineModule } from "@beep/kernel";
import { openRateLimitStore } from "@beep/limits";
import type { ObservabilityRuntime } from "@beep/observability";
import { UsersService } from "@beep/proto/gen/beep/users/v1/users_pb.ts";
import type { RpcRuntime } from "@beep/rpc";
import type { JSONWebKeySet } from "jose";
import { ChannelDirectoryServiceDesc, channelDirectoryRoutes } from "./channel-directory.routes.ts";
import { ChannelDirectoryService } from "./channel-directory.service.ts";
import { ChannelsService } from "./channels.service.ts";
import { DiscoveryRepository } from "./discovery.repository.ts";
import { DiscoveryServiceDesc, discoveryRoutes } from "./discovery.routes.ts";
import { DiscoveryService } from "./discovery.service.ts";
import { InAppInvitesServiceDesc, inAppInvitesRoutes } from "./in-app-invites.routes.ts";
import { InAppInvitesService } from "./in-app-invites.service.ts";
import { InternalCallerGuard } from "./internal-caller.ts";
import { InviteRateLimit } from "./invites-rate.ts";
import { MemberDirectory } from "./member-directory.ts";
import { MemberListRepository } from "./member-list.repository.ts";
import { MemberListServiceDesc, memberListRoutes } from "./member-list.routes.ts";
import { MemberListService } from "./member-list.service.ts";
import { serversMigrations } from "./migrations/index.ts";
import { ModerationRepository } from "./moderation.repository.ts";
import { ModerationServiceDesc, moderationRoutes } from "./moderation.routes.ts";
import { ModerationService } from "./moderation.service.ts";
import { PermissionCache } from "./permission-cache.ts";
import { PermissionsServiceDesc, permissionsRoutes } from "./permissions.routes.ts";
import { PermissionsService } from "./permissions.service.ts";
import { RolesService } from "./roles.service.ts";
import { AccessReader } from "./server-access.ts";
import { ServerBlobCleanup } from "./server-blob-cleanup.ts";
import { ServerPicturesServiceDesc, serverPicturesRoutes } from "./server-pictures.routes.ts";
import { ServerPicturesService } from "./server-pictures.service.ts";
import { ServersRepository } from "./servers.repository.ts";
import { ServersServiceDesc, serversRoutes } from "./servers.routes.ts";
import { SERVERS_SCHEMA } from "./servers.schema-name.ts";
import { ServersService } from "./servers.service.ts";
import type { ServersTables } from "./servers.tables.ts";
import { VisibilityServiceDesc, visibilityRoutes } from "./visibility.routes.ts";
import { VisibilityService } from "./visibility.service.ts";
import { invalidatingAfterWrites } from "./write-invalidation.ts";

/** The `servers` target: servers, membership, invites, channels, roles and overwrites. */
export const serversModule = defineModule({
  name: "servers",
  deps: ["config", "observability", "db", "bus", "rpc", "blob"],
  target: true,
  async init(k) {
    const config = k.get<BeepConfig>("config");
    const { logger: loggerFor, metrics } = k.get<ObservabilityRuntime>("observability");
    const logger = loggerFor("servers");
    const database = k.get<DatabaseHandle>("db");
    const { registry, clients } = k.get<RpcRuntime>("rpc");

    await migrateSchema(database.db, SERVERS_SCHEMA, serversMigrations, logger);
    const db = serviceDatabase<ServersTables>(database.db, SERVERS_SCHEMA);
    const users = clients.client(UsersService);
    // Why through the users client: the same code verifies tokens whether users shares this process or not.
    // Kept a little past the access-token lifetime: after that a revoked session's tokens are dead anyway.
    const revokedSessions = new RevokedSessions((config.auth.accessTokenTtlSeconds + 60) * 1000);
    const callers = new CallerAuthenticator(
      createAccessTokenVerifier({
        ...config.auth,
        fetchJwks: async () => JSON.parse((await users.getJwks({})).jwksJson) as JSONWebKeySet,
        maxAgeMs: config.auth.jwksMaxAgeSeconds * 1000,
        refetchCooldownMs: config.auth.jwksRefetchCooldownSeconds * 1000,
      }),
      revokedSessions,
    );
    let revocations: BusSubscription | undefined;
    const repo = new ServersRepository();
    const access = new AccessReader(repo);
    const limits = config.servers;
    const limitStore = await openRateLimitStore(config.cache.url, { keyPrefix: "beep:rl:" });
    const inviteRate = new InviteRateLimit(limitStore, limits.invitesPerUserPerHour);
    const permissionCache = new PermissionCache({ db, repo, maxServers: limits.permissionCacheServers });
    const internalCallers = new InternalCallerGuard(config.rpc.internalToken);
    registry.service(
      PermissionsServiceDesc,
      permissionsRoutes(new PermissionsService(permissionCache), callers, internalCallers),
    );
    registry.service(
      VisibilityServiceDesc,
      visibilityRoutes(new VisibilityService({ db, cache: permissionCache }), internalCallers),
    );
    registry.service(
      ChannelDirectoryServiceDesc,
      channelDirectoryRoutes(
        new ChannelDirectoryService({ db, cache: permissionCache }),
        new InternalCallerGuard(config.rpc.internalToken),
      ),
    );
    const servers = new ServersService({ db, repo, access, logger, limits, inviteRate });
    registry.service(
      InAppInvitesServiceDesc,
      inAppInvitesRoutes(new InAppInvitesService({ db, repo, access, servers }), callers),
    );
    registry.service(
      ServersServiceDesc,
      invalidatingAfterWrites(
        serversRoutes(
          {
            servers,
            channels: new ChannelsService({ db, repo, access, limits }),
            roles: new RolesService({ db, repo, access, limits }),
          },
          callers,
        ),
        permissionCache,
      ),
    );
    const moderation = new ModerationService({
      db,
      repo,
      moderation: new ModerationRepository(),
      access,
      logger,
    });
    registry.service(
      ModerationServiceDesc,
      invalidatingAfterWrites(moderationRoutes(moderation, callers), permissionCache),
    );

    registry.service(
      DiscoveryServiceDesc,
      discoveryRoutes(new DiscoveryService({ db, discovery: new DiscoveryRepository() }), callers),
    );
    registry.service(
      MemberListServiceDesc,
      memberListRoutes(
        new MemberListService({ db, repo, members: new MemberListRepository(), access }),
        callers,
      ),
    );
    const memberDirectory = new MemberDirectory(db, logger);
    const blobs = k.get<BlobStore>("blob");
    const blobCleanup = new ServerBlobCleanup(blobs, logger);
    registry.service(
      ServerPicturesServiceDesc,
      serverPicturesRoutes(
        new ServerPicturesService({
          db,
          repo,
          access,
          blobs,
          maxPictureBytes: limits.maxPictureBytes,
          logger,
        }),
        callers,
      ),
    );

    const relay = new OutboxRelay({
      db: database.db,
      schema: SERVERS_SCHEMA,
      bus: k.get<Bus>("bus"),
      logger,
      // Why: NOTIFY wakes the relay at commit; without it events wait for the next poll.
      listen: database.dedicatedConnection(),
    });
    metrics.registerGauge(
      "servers_outbox_lag_seconds",
      "Age of the oldest unpublished servers event",
      [],
      async () => [{ labels: {}, value: await relay.lagSeconds() }],
    );
    return {
      value: undefined,
      start: async () => {
        revocations = await k.get<Bus>("bus").subscribe(["session.revoked"], (event) => {
          const sessionId = (event.payload as { sessionId?: unknown } | null)?.sessionId;
          if (typeof sessionId === "string") revokedSessions.record(sessionId);
        });
        await permissionCache.subscribe(k.get<Bus>("bus"));
        await memberDirectory.start(k.get<Bus>("bus"));
        await blobCleanup.start(k.get<Bus>("bus"));
        await relay.start();
      },
      stop: async () => {
        await relay.stop();
        await revocations?.close();
        await memberDirectory.close();
        await blobCleanup.close();
        await limitStore.close();
        await permissionCache.close();
      },
    };
  },
});
