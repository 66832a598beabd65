/** `beep.users.v1.UsersService` → `users`: the target that serves a protobuf service. */
export function targetOfService(serviceTypeName: string): string {
  const [root, target] = serviceTypeName.split(".");
  if (root !== "beep" || !target)
    throw new Error(`service ${serviceTypeName} is not a beep.<target>.v1 service`);
  return target;
}

/** Parses `rpc.peers` (`users=http://a:4000,gateway=http://b:4000`) into target → base URL. */
export function parsePeers(value: string): Map<string, string> {
  const peers = new Map<string, string>();
  for (const entry of value.split(",").filter(Boolean)) {
    const [target, url] = entry.split("=", 2);
    if (!target || !url) throw new Error(`rpc.peers entry "${entry}" must be target=http://host:port`);
    peers.set(target.trim(), url.trim());
  }
  return peers;
}
