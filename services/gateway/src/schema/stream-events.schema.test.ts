import { isObjectType, isUnionType } from "graphql";
import { createSchema } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { createGatewaySchema } from "../gateway.schema.ts";
import { schemaModules } from "./index.ts";
import { messageBodyEventsSchema } from "./message-events.schema.ts";

/** Every typename the servers and messages routes emit. */
const ROUTED = [
  "ServerCreated",
  "ServerUpdated",
  "ServerDeleted",
  "ChannelCreated",
  "ChannelUpdated",
  "ChannelDeleted",
  "RoleCreated",
  "RoleUpdated",
  "RoleDeleted",
  "MemberJoined",
  "MemberUpdated",
  "MemberLeft",
  "InviteReceived",
  "MessageDeleted",
  "MessagePinned",
  "MessageUnpinned",
  "ReactionAdded",
  "ReactionRemoved",
  "TypingStarted",
  "ReadStateUpdated",
];

describe("stream event types", () => {
  it("are object members of the StreamEvent union, with the routes' fields", () => {
    const schema = createGatewaySchema();
    const union = schema.getType("StreamEvent");
    if (!isUnionType(union)) throw new Error("StreamEvent is not a union");
    const members = union.getTypes().map((type) => type.name);
    for (const name of ROUTED) expect(members).toContain(name);
    const channelDeleted = schema.getType("ChannelDeleted");
    if (!isObjectType(channelDeleted)) throw new Error("no ChannelDeleted");
    expect(Object.keys(channelDeleted.getFields())).toEqual(["serverId", "channelId", "deletedChannelIds"]);
  });

  it("MessageCreated/MessageUpdated join the union once a Message type is present", () => {
    const stubMessage = /* GraphQL */ `
      "Stand-in for the messages slice's type."
      type Message {
        "Id."
        id: ID!
      }
    `;
    const schema = createSchema({
      typeDefs: [...schemaModules.map((m) => m.typeDefs), stubMessage, messageBodyEventsSchema.typeDefs],
      resolvers: schemaModules.map((m) => m.resolvers) as never,
    });
    const union = schema.getType("StreamEvent");
    if (!isUnionType(union)) throw new Error("StreamEvent is not a union");
    expect(union.getTypes().map((type) => type.name)).toEqual(
      expect.arrayContaining(["MessageCreated", "MessageUpdated"]),
    );
  });
});
