/** Text helpers shared by the layers. */

/** Keeps error messages one line and free of control characters when echoing bad input. */
export function printable(s: string, max = 60): string {
  const clean = s.replace(/[\x00-\x1f\x7f]/g, "?");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** A URL without user name and password (they must never reach a message or a log). */
export function redactUrl(url: URL): string {
  const u = new URL(url.href);
  u.username = "";
  u.password = "";
  return u.href;
}

/** The same for a string that may not parse as a URL. */
export function redactUrlText(s: string): string {
  return s.replace(/\/\/[^/@]*@/, "//");
}
