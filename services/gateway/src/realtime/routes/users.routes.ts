import type { BusEvent } from "@beep/bus";
import type { EventRoute, RoutedEvent } from "../audience.ts";

/** `user.updated {user}` → `UserUpdated { user }` for that user only. */
export const userUpdatedRoute: EventRoute = (event: BusEvent): RoutedEvent[] => {
  if (event.type !== "user.updated") return [];
  const user = (event.payload as { user?: { id?: unknown } } | null)?.user;
  if (typeof user?.id !== "string") return [];
  return [{ audience: { kind: "users", userIds: [user.id] }, typename: "UserUpdated", data: { user } }];
};

/** The users feature's routes. */
export const usersRoutes: readonly EventRoute[] = [userUpdatedRoute];
