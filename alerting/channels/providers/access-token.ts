// The access token of a WeCom or DingTalk app: fetched with the app's secret, good for `expires_in`
// seconds (7200), and meant to be reused: both platforms limit how often it may be fetched. One fetch at a
// time is shared by every sender; a token the platform calls invalid or expired is dropped and fetched anew.
export interface FetchedToken {
  token: string;
  expiresInSec: number;
}

/** Fetched again this long before it expires, so a send never carries a token that dies on the way. */
const EARLY_MS = 5 * 60_000;

export class AccessTokenCache {
  private current: { token: string; until: number } | null = null;
  private fetching: Promise<string> | null = null;

  constructor(
    private readonly fetchToken: () => Promise<FetchedToken>,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    if (this.current && this.now() < this.current.until) return this.current.token;
    this.fetching ??= this.fetchToken()
      .then(({ token, expiresInSec }) => {
        this.current = { token, until: this.now() + Math.max(0, expiresInSec * 1000 - EARLY_MS) };
        return token;
      })
      .finally(() => {
        this.fetching = null;
      });
    return this.fetching;
  }

  /** The platform refused `token` (invalid, expired): the next get() fetches a new one. */
  drop(token: string): void {
    if (this.current?.token === token) this.current = null;
  }
}
