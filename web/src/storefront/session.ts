import { call, ApiError, RequestOptions, Answer } from "../common/api";
import { Token, renewalTime } from "../common/token";

// renewAheadMs: renew this long before expiry (at most a quarter of the
// token's life early).
const renewAheadMs = 30_000;

// Session holds the tokens of a login, in memory only, and renews the access
// token before it expires: on a timer, and before any call made too close
// to its expiry. A refresh token is spent once; the new pair replaces it.
export class Session {
  private access = "";
  private refresh = "";
  private renewAt = 0;
  private timer: number | undefined;
  private renewing: Promise<void> | null = null;

  constructor(private readonly onExpired: () => void) {}

  get loggedIn(): boolean {
    return this.access !== "";
  }

  async login(email: string, password: string): Promise<void> {
    const t = await call<Token>("POST", "/api/v1/auth/token", { body: { email, password } });
    this.adopt(t.body);
  }

  async logout(): Promise<void> {
    const refresh = this.refresh;
    this.clear();
    if (refresh) {
      try {
        await call("POST", "/api/v1/auth/logout", { body: { refresh_token: refresh } });
      } catch {
        // The tokens are gone from this page either way.
      }
    }
  }

  // call is the API call with the access token, renewed first when it
  // expires within the margin.
  async call<T>(method: string, path: string, opts: RequestOptions = {}): Promise<Answer<T>> {
    if (Date.now() > this.renewAt) await this.renew();
    try {
      return await call<T>(method, path, { ...opts, token: this.access });
    } catch (err) {
      if (err instanceof ApiError && err.problem.status === 401 && this.refresh) {
        await this.renew();
        return call<T>(method, path, { ...opts, token: this.access });
      }
      throw err;
    }
  }

  private adopt(t: Token): void {
    this.access = t.access_token;
    this.refresh = t.refresh_token;
    this.renewAt = renewalTime(t, renewAheadMs);
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.renew().catch(() => undefined), this.renewAt - Date.now());
  }

  private renew(): Promise<void> {
    if (!this.renewing) {
      this.renewing = (async () => {
        try {
          const t = await call<Token>("POST", "/api/v1/auth/refresh", { body: { refresh_token: this.refresh } });
          this.adopt(t.body);
        } catch (err) {
          this.clear();
          this.onExpired();
          throw err;
        } finally {
          this.renewing = null;
        }
      })();
    }
    return this.renewing;
  }

  private clear(): void {
    window.clearTimeout(this.timer);
    this.access = this.refresh = "";
    this.renewAt = 0;
  }
}
