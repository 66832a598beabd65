const SECRET_PARAM = /secret|token|password|passwd|accesskey|credential|signature/i;

/** The URL with its password and credential-like query values replaced by `***`, safe for errors and logs. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Unparseable: show only the scheme, since we cannot tell where a secret might sit.
    const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(url)?.[0] ?? "";
    return `${scheme}***`;
  }
  if (parsed.password) parsed.password = "***";
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, "***");
  }
  return parsed.toString();
}
