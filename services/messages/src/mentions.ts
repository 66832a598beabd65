import type { ChannelDirectory } from "./channel-access.ts";
import type { MentionSet } from "./messages.tables.ts";

/** Candidates found in a message's text, before any check. */
export interface ParsedMentions {
  /** `@name` tokens: a username or a (one-word) role name. */
  names: string[];
  /** `<@id>` / `<@!id>`. */
  userIds: string[];
  /** `<@&id>`. */
  roleIds: string[];
  /** `#name` tokens. */
  channelNames: string[];
  /** `<#id>`. */
  channelIds: string[];
  /** `@everyone` or `@here` appeared. */
  everyone: boolean;
}

/** Candidates of each kind kept at most; a message cannot fan out to more. */
export const MAX_MENTION_CANDIDATES = 50;

const CODE = /```[\s\S]*?```|`[^`\n]*`/g;
// Why the look-behind: `a@b.c` (an address) or `x#y` is not a mention.
const NAME = /(?<![\w.@#<])@([A-Za-z0-9_.]{2,32})/g;
const USER_ID = /<@!?(\d{1,20})>/g;
const ROLE_ID = /<@&(\d{1,20})>/g;
const CHANNEL_NAME = /(?<![\w&<#])#([\p{L}\p{N}_-]{1,100})/gu;
const CHANNEL_ID = /<#(\d{1,20})>/g;

function collect(text: string, pattern: RegExp): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(pattern)) {
    found.add(match[1]!);
    if (found.size === MAX_MENTION_CANDIDATES) break;
  }
  return [...found];
}

/** The mention candidates of Markdown `content`; code spans and blocks mention nobody. */
export function parseMentions(content: string): ParsedMentions {
  const text = content.replace(CODE, " ");
  const words = collect(text, NAME).map((name) => name.replace(/\.+$/, ""));
  const everyone = words.some((w) => w === "everyone" || w === "here");
  return {
    names: [...new Set(words.filter((w) => w.length >= 2 && w !== "everyone" && w !== "here"))],
    userIds: collect(text, USER_ID),
    roleIds: collect(text, ROLE_ID),
    channelNames: collect(text, CHANNEL_NAME),
    channelIds: collect(text, CHANNEL_ID),
    everyone,
  };
}

/** Finds accounts by username (users' UserDirectoryService, acting for the sender). */
export type UsernameLookup = (
  usernames: readonly string[],
) => Promise<Array<{ id: string; username: string }>>;

/** An empty mention set. */
export const NO_MENTIONS: MentionSet = { userIds: [], roleIds: [], channelIds: [], everyone: false };

/**
 * Resolves a message's mentions server-side (MSG-6) with at most two calls whatever their number: one
 * username lookup, one servers call that keeps only users who can view the channel, roles of the server
 * and channels the sender can view. `@everyone`/`@here` count only with MENTION_EVERYONE.
 */
export async function resolveMentions(input: {
  content: string;
  serverId: string;
  channelId: string;
  senderId: string;
  mayMentionEveryone: boolean;
  directory: ChannelDirectory;
  findUsers: UsernameLookup;
}): Promise<MentionSet> {
  const parsed = parseMentions(input.content);
  const everyone = parsed.everyone && input.mayMentionEveryone;
  const anything =
    parsed.names.length +
    parsed.userIds.length +
    parsed.roleIds.length +
    parsed.channelNames.length +
    parsed.channelIds.length;
  if (anything === 0) return { ...NO_MENTIONS, everyone };
  const named = parsed.names.length > 0 ? await input.findUsers(parsed.names) : [];
  const resolved = await input.directory.resolveMentions({
    serverId: input.serverId,
    channelId: input.channelId,
    senderId: input.senderId,
    userIds: [...new Set([...named.map((user) => user.id), ...parsed.userIds])],
    roleNames: parsed.names,
    roleIds: parsed.roleIds,
    channelNames: parsed.channelNames,
    channelIds: parsed.channelIds,
  });
  return {
    userIds: resolved.userIds,
    roleIds: resolved.roleIds,
    channelIds: resolved.channelIds,
    everyone,
  };
}
