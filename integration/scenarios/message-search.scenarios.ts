import { describe, expect, it } from "vitest";
import { dataOf, type GraphqlResponse, graphql } from "../harness/graphql-client.ts";
import type { Topology } from "../harness/topology.ts";
import { signedInUser } from "./identity.scenarios.ts";

const VIEW_CHANNEL = 1n << 10n;

const CREATE_SERVER = `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id channels { id name } } } }`;
const JOIN = `mutation ($input: ServerIdInput!) { joinServer(input: $input) { server { id } } }`;
const CREATE_CHANNEL = `mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }`;
const SET_OVERWRITE = `mutation ($input: SetChannelOverwriteInput!) { setChannelOverwrite(input: $input) { channel { id } } }`;
const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id } } }`;
const EDIT = `mutation ($input: EditMessageInput!) { editMessage(input: $input) { message { id } } }`;
const DELETE = `mutation ($input: MessageIdInput!) { deleteMessage(input: $input) { messageId } }`;
const SEARCH = `query ($serverId: ID!, $query: String, $channelId: ID, $authorId: ID, $has: [MessageSearchHas!],
  $sentBefore: DateTime, $sentAfter: DateTime, $sort: MessageSearchSort, $first: Int, $after: String) {
  searchMessages(serverId: $serverId, query: $query, channelId: $channelId, authorId: $authorId, has: $has,
    sentBefore: $sentBefore, sentAfter: $sentAfter, sort: $sort, first: $first, after: $after) {
    totalHits totalHitsCapped endCursor hasMore messages { id channelId authorId content }
  } }`;

interface SearchResult {
  totalHits: number;
  totalHitsCapped: boolean;
  endCursor: string | null;
  hasMore: boolean;
  messages: Array<{ id: string; channelId: string; authorId: string; content: string }>;
}

const codeOf = (response: GraphqlResponse<unknown>) => response.errors?.[0]?.extensions?.code;

/** Message search through the gateway (MSG-12); run unchanged against every topology. */
export function defineMessageSearchScenarios(topology: () => Topology): void {
  const url = () => topology().gatewayUrl;

  const send = async (token: string, channelId: string, content: string) =>
    dataOf(
      await graphql<{ sendMessage: { message: { id: string } } }>(
        url(),
        SEND,
        { input: { channelId, content } },
        token,
      ),
    ).sendMessage.message.id;
  const search = (token: string, variables: Record<string, unknown>) =>
    graphql<{ searchMessages: SearchResult }>(url(), SEARCH, variables, token);
  const found = async (token: string, variables: Record<string, unknown>) =>
    dataOf(await search(token, variables)).searchMessages;

  describe("message search", () => {
    it("finds prefixes, URL hosts, phrases and filters, never a hidden channel's messages (not even in counts)", async () => {
      const owner = await signedInUser(url());
      const member = await signedInUser(url());
      const stranger = await signedInUser(url());
      const { createServer } = dataOf(
        await graphql<{ createServer: { server: { id: string; channels: Array<{ id: string }> } } }>(
          url(),
          CREATE_SERVER,
          { input: { name: "Search", public: true } },
          owner.accessToken,
        ),
      );
      const serverId = createServer.server.id;
      const general = createServer.server.channels[0]!.id;
      dataOf(await graphql(url(), JOIN, { input: { serverId } }, member.accessToken));
      const secret = dataOf(
        await graphql<{ createChannel: { channel: { id: string } } }>(
          url(),
          CREATE_CHANNEL,
          { input: { serverId, name: "secret" } },
          owner.accessToken,
        ),
      ).createChannel.channel.id;
      dataOf(
        await graphql(
          url(),
          SET_OVERWRITE,
          {
            input: { channelId: secret, targetType: "ROLE", targetId: serverId, deny: String(VIEW_CHANNEL) },
          },
          owner.accessToken,
        ),
      );

      const link = await send(
        member.accessToken,
        general,
        "the example repo is https://github.com/beep/search",
      );
      await send(owner.accessToken, general, "Café tonight?");
      await send(owner.accessToken, general, "example meeting notes");
      for (let i = 0; i < 3; i += 1) await send(owner.accessToken, secret, `example secret plan ${i}`);

      const exam = await found(member.accessToken, { serverId, query: "exam" });
      expect(exam.totalHits).toBe(2);
      expect(exam.messages.map((m) => m.channelId)).toEqual([general, general]);
      expect((await found(owner.accessToken, { serverId, query: "exam" })).totalHits).toBe(5);
      expect(
        (await found(member.accessToken, { serverId, query: "github" })).messages.map((m) => m.id),
      ).toEqual([link]);
      expect((await found(member.accessToken, { serverId, query: "cafe" })).totalHits).toBe(1);
      expect((await found(member.accessToken, { serverId, query: '"meeting notes"' })).totalHits).toBe(1);
      expect((await found(member.accessToken, { serverId, query: "example has:link" })).totalHits).toBe(1);
      expect(
        (await found(member.accessToken, { serverId, query: `example from:${owner.identity.username}` }))
          .messages,
      ).toMatchObject([{ content: "example meeting notes" }]);
      expect(
        (
          await found(member.accessToken, {
            serverId,
            query: "example",
            authorId: member.user.id,
            has: ["LINK"],
          })
        ).totalHits,
      ).toBe(1);
      expect((await found(member.accessToken, { serverId, query: "secret plan" })).totalHits).toBe(0);

      // Paging by cursor, newest first: full pages, no repeats.
      const first = await found(owner.accessToken, { serverId, query: "example", sort: "NEWEST", first: 3 });
      expect(first).toMatchObject({ totalHits: 5, hasMore: true });
      const second = await found(owner.accessToken, {
        serverId,
        query: "example",
        sort: "NEWEST",
        first: 3,
        after: first.endCursor,
      });
      expect(second.hasMore).toBe(false);
      expect(new Set([...first.messages, ...second.messages].map((m) => m.id)).size).toBe(5);

      // The hidden channel named outright, a stranger, and bad input.
      expect(
        codeOf(await search(member.accessToken, { serverId, query: "example", channelId: secret })),
      ).toBe("NOT_FOUND");
      const strangers = await search(stranger.accessToken, { serverId, query: "example" });
      expect(codeOf(strangers)).toBe("NOT_FOUND");
      expect(strangers.data ?? null).toBeNull();
      expect(codeOf(await search(member.accessToken, { serverId, query: "x has:poll" }))).toBe(
        "BAD_USER_INPUT",
      );
      expect(codeOf(await search(member.accessToken, { serverId, query: "x", first: 101 }))).toBe(
        "BAD_USER_INPUT",
      );

      // Edits and deletions show at once.
      await graphql(
        url(),
        EDIT,
        { input: { messageId: link, content: "moved to gitlab" } },
        member.accessToken,
      );
      expect((await found(member.accessToken, { serverId, query: "github" })).totalHits).toBe(0);
      expect((await found(member.accessToken, { serverId, query: "gitlab" })).totalHits).toBe(1);
      dataOf(await graphql(url(), DELETE, { input: { messageId: link } }, member.accessToken));
      expect((await found(member.accessToken, { serverId, query: "gitlab" })).totalHits).toBe(0);
    });
  });
}
