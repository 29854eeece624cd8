// Alibaba Cloud's RPC request signature (signature version 1.0, HMAC-SHA1), as its docs describe it:
// percent-encode every name and value (RFC 3986, UTF-8, with "~" kept and "+", "*", "%7E" fixed up),
// sort by name, join as a query, then sign "METHOD&%2F&" + the percent-encoded query with the AccessKey
// secret plus "&" as the key.
import { createHmac } from 'node:crypto';

/** Alibaba's percent-encoding: encodeURIComponent plus the characters it leaves alone but Alibaba does not. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The sorted, encoded query every signature covers (everything but Signature itself). */
export function canonicalizedQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`)
    .join('&');
}

export function stringToSign(method: 'GET' | 'POST', params: Record<string, string>): string {
  return `${method}&${percentEncode('/')}&${percentEncode(canonicalizedQuery(params))}`;
}

/** Base64 HMAC-SHA1 of the string to sign, keyed by the secret and "&". */
export function rpcSignature(method: 'GET' | 'POST', params: Record<string, string>, secret: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign(method, params)).digest('base64');
}
