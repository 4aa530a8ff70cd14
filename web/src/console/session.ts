// The console's admin session. Outside development on loopback, the
// console's routes need an access token of the users module with role
// admin: the operator logs in with email and password through this
// listener's /admin/v1/console/login (which refuses anyone but an admin).
// The tokens live in this tab's sessionStorage only (never a cookie or a
// URL); the access token is renewed shortly before it expires, and a
// refused renewal asks for a new login.
import { call, ApiError, Answer, RequestOptions } from "../common/api";
import { byId } from "../common/dom";
import { clearErrors, showProblem, value } from "../common/forms";
import { Token, renewalTime } from "../common/token";

interface Session {
  email: string;
  access: string;
  refresh: string;
  renewAt: number; // ms since the epoch
}

const key = "console-session";
// renewAheadMs: renew this long before expiry (at most a quarter of the
// token's life early).
const renewAheadMs = 5_000;

let renewing: Promise<void> | null = null;
let onChange: () => void = () => undefined;

function load(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(key) ?? "null") as Session | null;
    return s && typeof s.access === "string" ? s : null;
  } catch {
    return null;
  }
}

function save(email: string, t: Token): void {
  const s: Session = { email, access: t.access_token, refresh: t.refresh_token, renewAt: renewalTime(t, renewAheadMs) };
  sessionStorage.setItem(key, JSON.stringify(s));
  render();
}

function clear(): void {
  sessionStorage.removeItem(key);
  render();
}

// adminCall is call with the admin's current access token (renewed first
// when it is about to expire), or with none without a session (in
// development on loopback, the console needs none).
export async function adminCall<T>(method: string, path: string, opts: RequestOptions = {}): Promise<Answer<T>> {
  const token = await accessToken();
  try {
    return await call<T>(method, path, { ...opts, token });
  } catch (err) {
    if (err instanceof ApiError) sentWith.set(err, token ?? "");
    throw err;
  }
}

// sentWith is the access token each refused call was sent with ("" for
// none): a call sent before a login, or before a renewal, may be refused
// after it, and that refusal is not the current session's.
const sentWith = new WeakMap<ApiError, string>();

async function accessToken(): Promise<string | undefined> {
  let s = load();
  if (!s) return undefined;
  if (Date.now() >= s.renewAt) {
    renewing ??= renew(s).finally(() => (renewing = null));
    await renewing;
    s = load();
  }
  return s?.access;
}

async function renew(s: Session): Promise<void> {
  try {
    const res = await call<Token>("POST", "/admin/v1/console/refresh", { body: { refresh_token: s.refresh } });
    save(s.email, res.body);
  } catch {
    clear();
    needLogin("Your session ended: log in again.");
  }
}

// refused handles a guarded route's 401 or 403: the login form, with why.
// It returns whether err was such a refusal. A refusal of a call sent
// with another token than the session's now (none, before the login;
// the one a renewal replaced) is handled as nothing: the session stays.
export function refused(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  const s = load();
  if ((err.code === "console_unauthorized" || err.code === "console_forbidden") && s && sentWith.has(err) && sentWith.get(err) !== s.access) {
    return true;
  }
  if (err.code === "console_unauthorized") {
    clear();
    needLogin(s ? "Your session ended: log in again." : "");
    return true;
  }
  if (err.code === "console_forbidden") {
    clear();
    needLogin("The console is for admins only.");
    return true;
  }
  return false;
}

function needLogin(message: string): void {
  const section = byId("login-section");
  const first = section.hidden;
  section.hidden = false;
  if (message) byId("console-login-error").textContent = message;
  if (first) byId<HTMLInputElement>("console-email").focus();
}

// signedIn reports whether an admin's session is in place.
export function signedIn(): boolean {
  return load() !== null;
}

function render(): void {
  const s = load();
  byId("signed-in").hidden = !s;
  byId("signed-in-as").textContent = s ? `Signed in as ${s.email} (admin)` : "";
  if (s) byId("login-section").hidden = true;
}

// setupSession wires the login form and the logout button; changed runs
// after a login or logout, to reload what the console shows.
export function setupSession(changed: () => void): void {
  onChange = changed;
  const form = byId<HTMLFormElement>("console-login");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void login(form);
  });
  byId("console-logout").addEventListener("click", () => void logout());
  render();
}

async function login(form: HTMLFormElement): Promise<void> {
  clearErrors(form);
  const email = value(form, "email").trim();
  const password = value(form, "password");
  if (!email || !password) {
    byId("console-login-error").textContent = "Enter the email and password of an admin.";
    byId<HTMLInputElement>(email ? "console-password" : "console-email").focus();
    return;
  }
  const button = form.querySelector("button")!;
  button.disabled = true;
  try {
    const res = await call<Token>("POST", "/admin/v1/console/login", { body: { email, password } });
    form.reset();
    save(email, res.body);
    onChange();
  } catch (err) {
    if (err instanceof ApiError && err.code === "console_forbidden") {
      form.reset();
      byId("console-login-error").textContent = `${email} is not an admin: the console is for admins only (an admin can run \`app users promote ${email}\`).`;
    } else {
      showProblem(form, err);
    }
    byId<HTMLInputElement>("console-email").focus();
  } finally {
    button.disabled = false;
  }
}

async function logout(): Promise<void> {
  const s = load();
  clear();
  if (s) await call("POST", "/admin/v1/console/logout", { body: { refresh_token: s.refresh } }).catch(() => undefined);
  needLogin("Logged out.");
  onChange();
}
