/**
 * Generated contracts live under `./gen/` (one module per .proto, from `npm run proto`).
 * Import them by path, e.g. `@beep/proto/gen/beep/users/v1/users_pb.ts`, so a consumer
 * loads only the contracts it uses; this entry point deliberately re-exports nothing.
 */
export {};
