import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { LdapDirectory, type LdapDirectoryOptions, LdapUnavailableError } from "./ldap-directory.ts";

const options = (url: string): LdapDirectoryOptions => ({
  url,
  startTls: false,
  bindMode: "template",
  bindDnTemplate: "uid={username},ou=people,dc=example,dc=org",
  searchBindDn: "",
  searchBindPassword: "",
  searchBase: "dc=example,dc=org",
  searchFilter: "(uid={username})",
  emailAttribute: "mail",
  firstNameAttribute: "givenName",
  lastNameAttribute: "sn",
  usernameAttribute: "uid",
  connectTimeoutMs: 500,
  timeoutMs: 500,
});

describe("LdapDirectory", () => {
  it("never sends a bind with an empty or blank password (an unauthenticated bind)", async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const directory = new LdapDirectory(options(`ldap://127.0.0.1:${port}`));
    try {
      for (const password of ["", "   ", "\t\n"]) {
        await expect(directory.authenticate("alice", password)).rejects.toThrow(/empty password/);
      }
      expect(connections).toBe(0);
      // The same server does get a connection for a real password: the count above can fail.
      await expect(directory.authenticate("alice", "secret")).rejects.toBeInstanceOf(LdapUnavailableError);
      expect(connections).toBeGreaterThan(0);
    } finally {
      server.close();
    }
  });
});
