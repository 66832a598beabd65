/**
 * Escapes a value for an LDAP search filter (RFC 4515 §3): `*`, `(`, `)`,
 * `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`, so user input can
 * only ever be an equality value, never a wildcard or a nested filter.
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * Escapes a value for one attribute value of a DN (RFC 4514 §2.4): `"`,
 * `+`, `,`, `;`, `<`, `>`, `\` and `=` get a backslash, NUL becomes `\00`,
 * a leading `#` or space and a trailing space are escaped, so user input
 * cannot add RDNs or change the DN's structure.
 */
export function escapeDnValue(value: string): string {
  const chars = [...value];
  return chars
    .map((c, index) => {
      if (c === "\0") return "\\00";
      if ('\\"+,;<>='.includes(c)) return `\\${c}`;
      if (index === 0 && (c === "#" || c === " ")) return `\\${c}`;
      if (index === chars.length - 1 && c === " ") return `\\${c}`;
      return c;
    })
    .join("");
}
