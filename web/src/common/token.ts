// The users module's token pair, as a login or a refresh answers it (the
// storefront's /api/v1/auth/*, the console's /admin/v1/console/*).
export interface Token {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

// renewalTime is when a token received now is to be renewed: aheadMs before it
// expires, at most a quarter of its life early, so no call carries a token
// that expires on the way.
export function renewalTime(t: Token, aheadMs: number): number {
  const life = t.expires_in * 1000;
  return Date.now() + life - Math.min(aheadMs, life / 4);
}
