// Reads an HTTP Retry-After header (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date. InfluxData's
// API reference documents seconds for 429 and 503. The client library's HttpError.retryAfter() returns the
// number as milliseconds (checked in @influxdata/influxdb-client 1.35), so a server asking for 30 s would
// hear from it again after 30 ms; Anju reads the header itself.

/** The delay the server asked for, in ms, or undefined when the header is absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP-date names its weekday or month; without letters Date.parse would read "-5" as a year.
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
