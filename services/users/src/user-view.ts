import type { AccountRow } from "./account.repository.ts";

/** An account as its owner sees it (also the payload of `user.updated`). */
export interface UserView {
  id: string;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  displayName: string;
  bio: string;
  createdAt: string;
  updatedAt: string;
}

/** Tokens handed out by every sign-in and by refresh. */
export interface SessionTokensView {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
  user: UserView;
}

/** The owner's view of an account row. */
export function toUserView(row: AccountRow): UserView {
  return {
    id: String(row.id),
    username: row.username,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    displayName: row.display_name,
    bio: row.bio,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
