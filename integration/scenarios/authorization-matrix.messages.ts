import type { AuthorizationFixture } from "./authorization-fixture.ts";
import type { MatrixEntry } from "./authorization-matrix.scenarios.ts";

/**
 * The messages fields of the authorization matrix (issue 5: every operation checks permissions). The owner's
 * variables name the secret channel (hidden from @everyone) or its pinned message, so a stranger, the plain
 * member, the junior (not crew), a rival and the banned user get NOT_FOUND; the plain member acting on the
 * owner's #general message lacks MANAGE_MESSAGES / PIN_MESSAGES (FORBIDDEN); the timed-out junior keeps only
 * VIEW_CHANNEL and READ_MESSAGE_HISTORY, so sending or typing in #general is FORBIDDEN to them. The state
 * probe (stateOf) includes both channels' history and pins. Other message features (reactions, threads,
 * read state) add their entries to this list, or to a file of their own spread into the matrix.
 */
const secretChannel = (f: AuthorizationFixture) => ({ channelId: f.secretId });
const secretMessage = (f: AuthorizationFixture) => ({ input: { messageId: f.secretMessageId } });
const generalMessage = (f: AuthorizationFixture) => ({ input: { messageId: f.generalMessageId } });

export const MESSAGES_AUTHORIZATION_MATRIX: MatrixEntry[] = [
  {
    field: "messages",
    document: `query ($channelId: ID!) { messages(channelId: $channelId) { messages { id content } } }`,
    variables: secretChannel,
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "junior", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
      { actor: "banned", code: "NOT_FOUND", variables: (f) => ({ channelId: f.generalId }) },
    ],
  },
  {
    field: "message",
    document: `query ($id: ID!) { message(id: $id) { id content } }`,
    variables: (f) => ({ id: f.secretMessageId }),
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
      { actor: "banned", code: "NOT_FOUND", variables: (f) => ({ id: f.generalMessageId }) },
    ],
  },
  {
    field: "pins",
    document: `query ($channelId: ID!) { pins(channelId: $channelId) { id } }`,
    variables: secretChannel,
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
    ],
  },
  {
    field: "sendMessage",
    document: `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id } } }`,
    variables: (f) => ({ input: { channelId: f.secretId, content: "matrix" } }),
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
      {
        actor: "banned",
        code: "NOT_FOUND",
        variables: (f) => ({ input: { channelId: f.generalId, content: "x" } }),
      },
      {
        actor: "muted",
        code: "FORBIDDEN",
        variables: (f) => ({ input: { channelId: f.generalId, content: "x" } }),
      },
    ],
  },
  {
    field: "editMessage",
    document: `mutation ($input: EditMessageInput!) { editMessage(input: $input) { message { id } } }`,
    variables: (f) => ({ input: { messageId: f.secretMessageId, content: "edited" } }),
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
      {
        actor: "member",
        code: "FORBIDDEN",
        variables: (f) => ({ input: { messageId: f.generalMessageId, content: "edited" } }),
      },
    ],
  },
  {
    field: "deleteMessage",
    document: `mutation ($input: MessageIdInput!) { deleteMessage(input: $input) { messageId } }`,
    variables: secretMessage,
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
      { actor: "member", code: "FORBIDDEN", variables: generalMessage },
      { actor: "junior", code: "FORBIDDEN", variables: generalMessage },
    ],
  },
  {
    field: "pinMessage",
    document: `mutation ($input: MessageIdInput!) { pinMessage(input: $input) { message { id } } }`,
    variables: secretMessage,
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
      { actor: "member", code: "FORBIDDEN", variables: generalMessage },
    ],
  },
  {
    field: "unpinMessage",
    document: `mutation ($input: MessageIdInput!) { unpinMessage(input: $input) { message { id } } }`,
    variables: secretMessage,
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
      { actor: "member", code: "FORBIDDEN", variables: generalMessage },
    ],
  },
  {
    field: "startTyping",
    document: `mutation ($input: StartTypingInput!) { startTyping(input: $input) { expiresAt } }`,
    variables: (f) => ({ input: { channelId: f.secretId } }),
    refusals: [
      { actor: "member", code: "NOT_FOUND" },
      { actor: "rival", code: "NOT_FOUND" },
      { actor: "muted", code: "FORBIDDEN", variables: (f) => ({ input: { channelId: f.generalId } }) },
    ],
  },
];
