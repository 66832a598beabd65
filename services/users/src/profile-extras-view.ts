import type { ProfileRow } from "./profile.repository.ts";
import type { UserView } from "./user-view.ts";

/** A custom status as shown to others. */
export interface CustomStatusView {
  text: string;
  emoji: string;
  /** ISO-8601, or "" when it never expires. */
  expiresAt: string;
}

/** Profile parts owned by the account feature, visible to any signed-in user. */
export interface ProfileExtrasView {
  userId: string;
  customStatus?: CustomStatusView;
  /** Changes on every upload; "" when there is no picture. */
  pictureVersion: string;
  bannerVersion: string;
}

/** The caller's account and extras after a change. */
export interface AccountProfileView {
  user: UserView;
  extras: ProfileExtrasView;
}

/** Payload of `user.updated` written by this feature: the user plus the extras. */
export interface ProfileUpdatedEvent {
  user: UserView;
  profile: ProfileExtrasView;
}

/** The last segment of a blob key `users/<id>/<kind>/<snowflake>`: the picture's version ("" for none). */
export function pictureVersionOf(key: string | null): string {
  return key ? (key.split("/").pop() ?? "") : "";
}

/** The extras of a profile row (or of nobody) at `now`, hiding an expired status. */
export function toExtrasView(userId: string, row: ProfileRow | undefined, now: Date): ProfileExtrasView {
  const expiresAt = row?.status_expires_at ? new Date(row.status_expires_at) : undefined;
  const live = row?.status_set && (!expiresAt || expiresAt > now);
  return {
    userId,
    ...(live && {
      customStatus: {
        text: row.status_text,
        emoji: row.status_emoji,
        expiresAt: expiresAt ? expiresAt.toISOString() : "",
      },
    }),
    pictureVersion: pictureVersionOf(row?.picture_key ?? null),
    bannerVersion: pictureVersionOf(row?.banner_key ?? null),
  };
}
