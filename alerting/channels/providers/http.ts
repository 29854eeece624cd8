// One HTTP exchange with a provider, with a deadline. Network failures and timeouts become retryable
// ProviderErrors naming the provider and the endpoint's host, never the request (it is signed).
import { errorText } from '../channel.ts';
import { ProviderError } from './provider.ts';

export interface HttpAnswer {
  status: number;
  /** The parsed JSON body, or null when the body was not JSON. */
  json: unknown;
}

export async function exchange(
  provider: string,
  url: URL,
  /** A POST of `body`, or a GET without one (an access token by query, as WeCom and DingTalk take it). */
  init: { headers: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<HttpAnswer> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: init.body === undefined ? 'GET' : 'POST',
      headers: init.headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    const why = timedOut ? `no answer within ${timeoutMs} ms` : errorText(err);
    throw new ProviderError(`${provider} ${url.host}: ${why}`, true, null);
  }
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // left null: the caller reports the HTTP status
  }
  return { status: response.status, json };
}
